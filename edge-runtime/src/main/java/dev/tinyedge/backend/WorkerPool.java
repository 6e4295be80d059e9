package dev.tinyedge.backend;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that split a range of work items (matrix rows, attention heads) between them.
 * The calling thread takes part, so {@code threads} counts it. A job is cut into a few chunks per thread: each
 * thread runs its own first chunk, then takes the next one left, so that threads held up (another process on
 * their core, the slow cores of a big.LITTLE board) do not hold up the job by their whole share. Jobs are
 * handed over through fields, not task objects, so running one allocates nothing; idle workers spin briefly,
 * then park.
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
    private static final int CHUNKS_PER_THREAD = 4;

    private final Thread[] workers;
    private final AtomicInteger unfinished = new AtomicInteger();
    /** The next chunk of the current job that no thread has taken; chunks below {@link #sharing} are the threads' own. */
    private final AtomicInteger nextChunk = new AtomicInteger();
    private volatile int generation;
    private volatile boolean closed;
    private volatile int limit;
    private RangeTask task;
    private int items;
    private int chunkSize;
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

    /** Runs {@code task} over items [0, count), in chunks shared between the threads; returns when all are done. */
    public void run(int count, RangeTask task) {
        int share = limit;
        if (share == 1 || count == 1) {
            task.run(0, count, 0);
            return;
        }
        this.task = task;
        this.items = count;
        this.chunkSize = Math.ceilDiv(count, share * CHUNKS_PER_THREAD);
        this.caller = Thread.currentThread();
        this.sharing = share;
        nextChunk.set(share);
        unfinished.set(share - 1);
        generation++; // the volatile write publishes task, items, chunkSize, caller and sharing to the workers
        for (int i = 0; i < share - 1; i++) {
            LockSupport.unpark(workers[i]);
        }
        runChunks(task, 0);
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

    /** The worker's own chunk, then every chunk still left when it asks. */
    private void runChunks(RangeTask job, int worker) {
        int chunks = Math.ceilDiv(items, chunkSize);
        for (int chunk = worker; chunk < chunks; chunk = nextChunk.getAndIncrement()) {
            int start = chunk * chunkSize;
            job.run(start, Math.min(items, start + chunkSize), worker);
        }
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
                runChunks(task, worker);
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
