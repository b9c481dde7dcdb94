package dev.ikd.runtime;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * Blocking work (DJL) off the event loop: tasks with the same key run one after another in the
 * order they were submitted; tasks with different keys run concurrently on the worker pool. A
 * teacher keys by student, so one student's messages are handled in order and students in parallel.
 * Call {@link #submit} from the owning verticle's context only.
 */
public final class KeyedWork {

    private final Vertx vertx;
    private final Map<String, Future<?>> tails = new HashMap<>();

    public KeyedWork(Vertx vertx) {
        this.vertx = vertx;
    }

    public <T> Future<T> submit(String key, Callable<T> task) {
        Future<?> tail = tails.getOrDefault(key, Future.succeededFuture());
        Future<T> next = tail.transform(ignored -> vertx.executeBlocking(task, false));
        tails.put(key, next);
        return next;
    }
}
