package dev.tinyedge.backend;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerPoolTest {
    @Test
    void everyItemRunsExactlyOnceOnSomeWorker() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                for (int count : new int[] {1, 2, 3, 7, 64, 1000}) {
                    for (int repeat = 0; repeat < 20; repeat++) {
                        AtomicIntegerArray runs = new AtomicIntegerArray(count);
                        AtomicIntegerArray workerOf = new AtomicIntegerArray(count);
                        pool.run(count, (start, end, worker) -> {
                            for (int i = start; i < end; i++) {
                                runs.incrementAndGet(i);
                                workerOf.set(i, worker);
                            }
                        });
                        for (int i = 0; i < count; i++) {
                            assertEquals(1, runs.get(i), "item " + i + " of " + count + " with " + threads + " threads");
                            assertTrue(workerOf.get(i) >= 0 && workerOf.get(i) < threads);
                        }
                    }
                }
            }
        }
    }

    @Test
    void threadsThatFinishTakeTheChunksOfOneHeldUp() {
        try (WorkerPool pool = new WorkerPool(2)) {
            AtomicIntegerArray byWorker = new AtomicIntegerArray(2);
            pool.run(80, (start, end, worker) -> {
                if (worker == 1 && byWorker.get(1) == 0) {
                    try {
                        Thread.sleep(300); // its core busy with something else
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                byWorker.addAndGet(worker, end - start);
            });
            assertEquals(80, byWorker.get(0) + byWorker.get(1));
            assertEquals(10, byWorker.get(1), "the held-up worker ran only its own first chunk");
        }
    }

    @Test
    void aWorkersFailureReachesTheCallerAndThePoolGoesOn() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run(10, (start, end, worker) -> {
                if (worker == 1) {
                    throw new ArithmeticException("boom");
                }
            }));
            assertTrue(e.getMessage().contains("boom"));
            int[] sum = new int[1];
            pool.run(4, (start, end, worker) -> {
                synchronized (sum) {
                    sum[0] += end - start;
                }
            });
            assertEquals(4, sum[0]);
        }
    }

    @Test
    void aLimitedPoolUsesOnlyTheFirstThreadsAndGetsThemBack() {
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int limit : new int[] {1, 2, 3, 2, 1, 3}) {
                pool.limit(limit);
                assertEquals(limit, pool.activeThreads());
                AtomicIntegerArray runs = new AtomicIntegerArray(90);
                boolean[] used = new boolean[3];
                pool.run(90, (start, end, worker) -> {
                    synchronized (used) {
                        used[worker] = true;
                    }
                    for (int i = start; i < end; i++) {
                        runs.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < 90; i++) {
                    assertEquals(1, runs.get(i), "item " + i + " at limit " + limit);
                }
                for (int w = 0; w < 3; w++) {
                    assertEquals(w < limit, used[w], "worker " + w + " at limit " + limit);
                }
            }
            pool.limit(0);
            assertEquals(1, pool.activeThreads(), "at least the calling thread");
            pool.limit(7);
            assertEquals(3, pool.activeThreads(), "at most the pool's threads");
        }
    }

    @Test
    void changingTheLimitWhileJobsRunLosesNoItemAndNeverHangs() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(3)) {
            Thread thermostat = Thread.ofPlatform().start(() -> {
                for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                    pool.limit(1 + i % 3);
                    Thread.onSpinWait();
                }
            });
            try {
                for (int repeat = 0; repeat < 20_000; repeat++) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(7);
                    pool.run(7, (start, end, worker) -> {
                        for (int i = start; i < end; i++) {
                            runs.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < 7; i++) {
                        assertEquals(1, runs.get(i), "item " + i + " in job " + repeat);
                    }
                }
            } finally {
                thermostat.interrupt();
                thermostat.join();
            }
        }
    }
}
