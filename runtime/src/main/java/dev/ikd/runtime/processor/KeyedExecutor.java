package dev.ikd.runtime.processor;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;

/**
 * Tasks with the same key run one after another in the order they were submitted; tasks with
 * different keys run concurrently on {@code executor}. A teacher keys by student: one student's
 * records are handled in order, students in parallel. Safe to submit from any thread. A task that
 * throws is reported to {@code failed} with its key, on its own thread, before anything else of that
 * key runs: nothing a task throws goes unheard (the processor stops, crash-only).
 */
final class KeyedExecutor {

    private final Executor executor;
    private final BiConsumer<String, Throwable> failed;
    private final Map<String, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();

    KeyedExecutor(Executor executor, BiConsumer<String, Throwable> failed) {
        this.executor = executor;
        this.failed = failed;
    }

    /** Runs {@code task} after every task submitted for {@code key} before it, whether they failed or not. */
    CompletableFuture<Void> submit(String key, Runnable task) {
        Runnable reported = () -> {
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                failed.accept(key, e);
                throw e;
            }
        };
        return tails.compute(key, (k, tail) -> (tail == null ? CompletableFuture.<Void>completedFuture(null)
            : tail.exceptionally(e -> null)).thenRunAsync(reported, executor));
    }
}
