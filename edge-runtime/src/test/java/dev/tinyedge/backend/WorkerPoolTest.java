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
}
