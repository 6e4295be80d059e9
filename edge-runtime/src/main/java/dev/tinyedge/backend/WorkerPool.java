package dev.tinyedge.backend;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that split a range of work items (matrix rows, attention heads) between them.
 * The calling thread takes the first share, so {@code threads} counts it. Jobs are handed over through
 * fields, not task objects, so running one allocates nothing; idle workers spin briefly, then park.
 * One job at a time: the pool belongs to one forward pass. A hot board can {@link #limit} the threads a
 * job uses; the workers left out sleep until the limit rises.
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
    private volatile int limit;
    private RangeTask task;
    private int items;
    /** Threads taking part in the current job (the limit when it started); written before generation. */
    private int sharing;
    private Thread caller;
    private volatile Throwable failure;

    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        limit = threads;
        workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int worker = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("tinyedge-cpu-" + worker).start(() -> work(worker));
        }
    }

    /** Jobs from now on use at most {@code threads} threads (at least one, at most the pool's). */
    public void limit(int threads) {
        limit = Math.clamp(threads, 1, threads());
        for (Thread worker : workers) {
            LockSupport.unpark(worker); // a worker left out of earlier jobs looks again
        }
    }

    /** The threads a job uses now. */
    public int activeThreads() {
        return limit;
    }

    public int threads() {
        return workers.length + 1;
    }

    /** Runs {@code task} over items [0, count), split evenly between the threads; returns when all are done. */
    public void run(int count, RangeTask task) {
        int share = limit;
        if (share == 1 || count == 1) {
            task.run(0, count, 0);
            return;
        }
        this.task = task;
        this.items = count;
        this.caller = Thread.currentThread();
        this.sharing = share;
        unfinished.set(share - 1);
        generation++; // the volatile write publishes task, items, caller and sharing to the workers
        for (int i = 0; i < share - 1; i++) {
            LockSupport.unpark(workers[i]);
        }
        task.run(0, end(count, 0, share), 0);
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

    private static int end(int count, int worker, int share) {
        return (int) ((long) count * (worker + 1) / share);
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
            int share = sharing;
            if (seen != generation) {
                continue; // a later job replaced sharing: look at that one
            }
            if (worker >= share) {
                // not part of this job (the pool is limited): sleep until the limit changes, then catch up
                // (a job that counts on this worker cannot finish without it, so none is missed meanwhile)
                while (worker >= limit && !closed) {
                    LockSupport.park(this);
                }
                continue;
            }
            try {
                int start = (int) ((long) items * worker / share);
                task.run(start, end(items, worker, share), worker);
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
