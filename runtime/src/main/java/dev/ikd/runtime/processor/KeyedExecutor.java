package dev.ikd.runtime.processor;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Tasks with the same key run one after another in the order they were submitted; tasks with
 * different keys run concurrently on {@code executor}. A teacher keys by student: one student's
 * records are handled in order, students in parallel. Safe to submit from any thread.
 */
final class KeyedExecutor {

    private final Executor executor;
    private final Map<String, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();

    KeyedExecutor(Executor executor) {
        this.executor = executor;
    }

    /** Runs {@code task} after every task submitted for {@code key} before it, whether they failed or not. */
    CompletableFuture<Void> submit(String key, Runnable task) {
        return tails.compute(key, (k, tail) -> (tail == null ? CompletableFuture.<Void>completedFuture(null)
            : tail.exceptionally(e -> null)).thenRunAsync(task, executor));
    }
}
