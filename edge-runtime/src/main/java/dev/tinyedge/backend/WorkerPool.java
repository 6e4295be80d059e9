package dev.tinyedge.backend;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that split a range of work items (matrix rows, attention heads) between them.
 * The calling thread takes the first share, so {@code threads} counts it. Jobs are handed over through
 * fields, not task objects, so running one allocates nothing; idle workers spin briefly, then park.
 * One job at a time: the pool belongs to one forward pass.
 */
public final class WorkerPool implements AutoCloseable {
    /** Runs items [start, end) on worker {@code worker} (0 = the calling thread). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end, int worker);
    }

    private static final int SPINS = 1 << 12;

    private final Thread[] workers;
    private final AtomicInteger unfinished = new AtomicInteger();
    private volatile int generation;
    private volatile boolean closed;
    private RangeTask task;
    private int items;
    private Thread caller;
    private volatile Throwable failure;

    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int worker = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("tinyedge-cpu-" + worker).start(() -> work(worker));
        }
    }

    public int threads() {
        return workers.length + 1;
    }

    /** Runs {@code task} over items [0, count), split evenly between the threads; returns when all are done. */
    public void run(int count, RangeTask task) {
        if (workers.length == 0 || count == 1) {
            task.run(0, count, 0);
            return;
        }
        this.task = task;
        this.items = count;
        this.caller = Thread.currentThread();
        unfinished.set(workers.length);
        generation++; // the volatile write publishes task, items and caller to the workers
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
        task.run(0, end(count, 0), 0);
        for (int spins = 0; unfinished.get() != 0; spins++) {
            if (spins < SPINS) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
        this.task = null;
        Throwable f = failure;
        if (f != null) {
            failure = null;
            throw new IllegalStateException("worker thread failed: " + f, f);
        }
    }

    private int end(int count, int worker) {
        return (int) ((long) count * (worker + 1) / threads());
    }

    private void work(int worker) {
        int seen = 0;
        while (true) {
            for (int spins = 0; generation == seen; spins++) {
                if (closed) {
                    return;
                }
                if (spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            seen = generation;
            try {
                int start = (int) ((long) items * worker / threads());
                task.run(start, end(items, worker), worker);
            } catch (Throwable e) {
                failure = e;
            } finally {
                if (unfinished.decrementAndGet() == 0) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
    }
}
