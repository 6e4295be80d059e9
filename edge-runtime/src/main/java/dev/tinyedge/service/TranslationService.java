package dev.tinyedge.service;

import dev.tinyedge.board.StatusLight;
import dev.tinyedge.metrics.RequestObserver;
import dev.tinyedge.translate.InputTooLongException;
import dev.tinyedge.translate.Translation;
import dev.tinyedge.translate.Translator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The work behind the protocol: a bounded queue in front of a translator that runs {@link Translator#parallel()}
 * requests at once (one worker thread each; the translator batches them through the model together),
 * cancellation, per-request timeouts, and the dedup window. Transport-neutral:
 * replies go to a {@link ReplyChannel}, which acknowledges each request after its final reply. Outcomes are
 * decided from the replies' types.
 */
public final class TranslationService {
    private static final Logger log = LoggerFactory.getLogger(TranslationService.class);

    /** The limits of the service, from the configuration. */
    public record Limits(int queueSize, Duration requestTimeout, Duration dedupWindow, int dedupMaxEntries,
                         long dedupMaxBytes) {
        public Limits(int queueSize, Duration requestTimeout, Duration dedupWindow, int dedupMaxEntries) {
            this(queueSize, requestTimeout, dedupWindow, dedupMaxEntries, new ServeConfig.Service().dedupMaxBytes);
        }
    }

    /**
     * Counters for the status topic.
     *
     * @param queueDepth requests waiting
     * @param active     requests being translated
     */
    public record Stats(int queueDepth, int active, long served, long errors, long unroutable,
                        double decodeTokensPerSecond) {
        static final Stats IDLE = new Stats(0, 0, 0, 0, 0, 0);
    }

    private static final class Job {
        final Request request;
        final List<Delivery> deliveries = new ArrayList<>();
        final long arrivedNanos = System.nanoTime();
        ScheduledFuture<?> timeout;
        volatile ErrorCode abort; // CANCELLED or TIMEOUT once the request must stop
        volatile boolean released; // shutting down: no reply, the broker redelivers it later

        Job(Request request, Delivery first) {
            this.request = request;
            deliveries.add(first);
        }
    }

    /**
     * Arrivals of one id that wait for its one translation (retries, redeliveries); a client repeating an id
     * beyond this while it is queued is answered {@code busy} instead of growing the list.
     */
    static final int MAX_DELIVERIES_PER_JOB = 16;

    private final Translator translator;
    private final Limits limits;
    private final String node;
    private final ReplyChannel replies;
    private final BoardSignals board;
    private final RequestObserver metrics;
    private final DedupCache dedup;
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("request-timeouts").daemon().factory());
    private final List<Thread> workers = new ArrayList<>();
    private final List<Job> active = new ArrayList<>();
    private boolean stopping;
    private long served;
    private long errors;
    private long unroutable;
    private double averageJobMs = 1000;
    private double decodeTokensPerSecond;

    public TranslationService(Translator translator, Limits limits, String node, ReplyChannel replies,
                              BoardSignals board) {
        this(translator, limits, node, replies, board, RequestObserver.NONE);
    }

    public TranslationService(Translator translator, Limits limits, String node, ReplyChannel replies,
                              BoardSignals board, RequestObserver metrics) {
        this.translator = translator;
        this.board = board;
        this.metrics = metrics;
        metrics.watchQueue(() -> {
            Stats stats = stats();
            return stats.queueDepth() + stats.active(); // the metric counts queued and running requests
        });
        this.limits = limits;
        this.node = node;
        this.replies = replies;
        this.dedup = new DedupCache(limits.dedupWindow().toMillis(), limits.dedupMaxEntries(), limits.dedupMaxBytes());
        for (int i = 0; i < translator.parallel(); i++) {
            workers.add(Thread.ofPlatform().name("translator-" + (i + 1)).start(this::work));
        }
    }

    /**
     * Takes a valid request. A repeated id is answered from the dedup window or joins the copy already queued
     * or running (up to {@link #MAX_DELIVERIES_PER_JOB} arrivals); a new request beyond the queue's capacity, or
     * while the board is too hot, is answered {@code busy}, unless the broker is redelivering it.
     */
    public void submit(Request request, Delivery delivery) {
        Reply.Final reply;
        String outcome = "repeat";
        synchronized (this) {
            if (stopping) {
                return; // not acknowledged: the broker delivers it again after the restart
            }
            String id = request.id();
            reply = id == null ? null : dedup.get(id);
            if (reply == null) {
                Job same = id == null ? null : findJob(id);
                if (same != null && (same.deliveries.size() < MAX_DELIVERIES_PER_JOB || delivery.redelivered())) {
                    same.deliveries.add(delivery);
                    return;
                }
                if (same == null
                        && ((queue.size() < limits.queueSize() && board.acceptsWork()) || delivery.redelivered())) {
                    Job job = new Job(request, delivery);
                    queue.add(job);
                    job.timeout = timer.schedule(() -> expire(job), limits.requestTimeout().toMillis(),
                            TimeUnit.MILLISECONDS);
                    notifyAll();
                    metrics.accepted();
                    return;
                }
                errors++;
                outcome = ErrorCode.BUSY.wireName();
                reply = new Reply.Busy(id, "the queue is full; retry later",
                        Math.round(averageJobMs * (queue.size() + 1)));
            }
        }
        metrics.rejected(outcome);
        replies.complete(delivery, reply);
    }

    /** Answers a request that failed validation. */
    public void reject(String id, Delivery delivery, RequestException error) {
        synchronized (this) {
            errors++;
        }
        metrics.rejected(error.code().wireName());
        replies.complete(delivery, new Reply.Failure(id, error.code(), error.getMessage()));
    }

    /** Answers {@code busy} to a client over its rate (see {@link ClientRateLimit}). */
    public void throttle(String id, Delivery delivery, long retryAfterMs) {
        synchronized (this) {
            errors++;
        }
        metrics.rejected(ErrorCode.BUSY.wireName());
        replies.complete(delivery, new Reply.Busy(id, "too many requests from this client; retry later", retryAfterMs));
    }

    /** Counts a request that named no reply topic: nobody can be told about it. */
    public synchronized void countUnroutable() {
        unroutable++;
        metrics.rejected("unroutable");
    }

    /** Cancels a queued or running request; returns false when no such request is here. */
    public boolean cancel(String id) {
        Job job;
        synchronized (this) {
            job = findJob(id);
            if (job == null) {
                return false;
            }
            job.abort = ErrorCode.CANCELLED;
            if (active.contains(job)) {
                return true; // the worker stops at the next token and replies
            }
            queue.remove(job);
            job.timeout.cancel(false);
            errors++;
        }
        finish(job, cancelled(id));
        return true;
    }

    /** Cancels the requests that are running (the board's cancel button); false when none is. */
    public boolean cancelRunning() {
        List<String> ids = new ArrayList<>();
        synchronized (this) {
            for (Job job : active) {
                if (job.request.id() != null) {
                    ids.add(job.request.id());
                }
            }
        }
        boolean any = false;
        for (String id : ids) {
            any |= cancel(id);
        }
        return any;
    }

    /** False once a translator thread has died: systemd's watchdog then restarts the daemon. */
    public boolean healthy() {
        return workers.stream().allMatch(Thread::isAlive);
    }

    /** Requests translated at once. */
    public int parallel() {
        return workers.size();
    }

    public synchronized Stats stats() {
        return new Stats(queue.size(), active.size(), served, errors, unroutable, decodeTokensPerSecond);
    }

    /**
     * Stops taking work: queued requests are released unanswered (the broker keeps them in the session), the
     * running ones get {@code grace} to finish and reply, then are released too.
     */
    public void stop(Duration grace) throws InterruptedException {
        synchronized (this) {
            stopping = true;
            for (Job job : queue) {
                job.timeout.cancel(false);
            }
            queue.clear();
            notifyAll();
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (Thread worker : workers) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                worker.join(Math.max(1, left / 1_000_000));
            }
        }
        synchronized (this) {
            for (Job job : active) {
                job.released = true;
            }
        }
        for (Thread worker : workers) {
            worker.join();
        }
        timer.shutdownNow();
    }

    private Job findJob(String id) {
        for (Job job : active) {
            if (id.equals(job.request.id())) {
                return job;
            }
        }
        for (Job job : queue) {
            if (id.equals(job.request.id())) {
                return job;
            }
        }
        return null;
    }

    private void expire(Job job) {
        synchronized (this) {
            job.abort = ErrorCode.TIMEOUT;
            if (active.contains(job) || !queue.remove(job)) {
                return;
            }
            errors++;
        }
        finish(job, timedOut(job.request.id()));
    }

    private void work() {
        while (true) {
            Job job;
            synchronized (this) {
                while (queue.isEmpty() && !stopping) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (stopping) {
                    return;
                }
                job = queue.poll();
                active.add(job);
            }
            board.show(StatusLight.Signal.BUSY);
            Reply.Final reply = run(job);
            boolean failed = reply instanceof Reply.Failure failure && failure.code() == ErrorCode.INTERNAL;
            synchronized (this) {
                active.remove(job);
                if (failed || active.isEmpty()) {
                    board.show(failed ? StatusLight.Signal.ERROR : StatusLight.Signal.READY);
                }
                job.timeout.cancel(false);
                if (job.released) {
                    return;
                }
                if (reply instanceof Reply.Result result) {
                    served++;
                    if (job.request.id() != null) {
                        dedup.put(job.request.id(), result);
                    }
                } else {
                    errors++;
                }
            }
            finish(job, reply);
        }
    }

    private Reply.Final run(Job job) {
        Request request = job.request;
        long started = System.nanoTime();
        Delivery first = job.deliveries.getFirst();
        int[] seq = {0};
        StringBuilder unsent = new StringBuilder(); // text a partial could not take yet: it goes with the next
        try {
            Translation translation = translator.translate(request.text(), request.source(), request.target(),
                    request.maxTokens(),
                    delta -> {
                        if (request.stream() && !job.released) {
                            unsent.append(delta);
                            if (replies.partial(first, new Reply.Partial(request.id(), seq[0], unsent.toString()))) {
                                seq[0]++;
                                unsent.setLength(0);
                            }
                        }
                    },
                    () -> job.abort != null || job.released);
            long finished = System.nanoTime();
            recordSpeed(translation, (finished - started) / 1e6);
            metrics.translated(translation, (started - job.arrivedNanos) / 1e9);
            if (job.abort == ErrorCode.CANCELLED) {
                return cancelled(request.id());
            }
            if (job.abort == ErrorCode.TIMEOUT) {
                return timedOut(request.id());
            }
            return Reply.Result.of(request, translation, translator.modelName(), node,
                    (started - job.arrivedNanos) / 1_000_000, (finished - job.arrivedNanos) / 1_000_000);
        } catch (InputTooLongException e) {
            return new Reply.Failure(request.id(), ErrorCode.TOO_LONG, e.getMessage());
        } catch (RuntimeException e) {
            log.error("request {} failed", request.id(), e);
            return new Reply.Failure(request.id(), ErrorCode.INTERNAL, "translation failed: " + e);
        }
    }

    private static Reply.Final cancelled(String id) {
        return new Reply.Failure(id, ErrorCode.CANCELLED, "cancelled by request");
    }

    private Reply.Final timedOut(String id) {
        return new Reply.Failure(id, ErrorCode.TIMEOUT,
                "not translated within " + limits.requestTimeout().toSeconds() + " s");
    }

    private synchronized void recordSpeed(Translation translation, double jobMs) {
        averageJobMs = 0.8 * averageJobMs + 0.2 * jobMs;
        if (translation.decodeMs() > 0 && translation.generatedTokens() > 1) {
            double speed = (translation.generatedTokens() - 1) * 1000.0 / translation.decodeMs();
            decodeTokensPerSecond = decodeTokensPerSecond == 0 ? speed : 0.8 * decodeTokensPerSecond + 0.2 * speed;
        }
    }

    /** A final reply's outcome as the metrics count it: {@code ok} or the error code. */
    private static String outcome(Reply.Final reply) {
        return switch (reply) {
            case Reply.Result result -> "ok";
            case Reply.Failure failure -> failure.code().wireName();
            case Reply.Busy busy -> ErrorCode.BUSY.wireName();
        };
    }

    /** Sends the final reply to every delivery of the request (a retry may have joined the first one). */
    private void finish(Job job, Reply.Final reply) {
        List<Delivery> deliveries;
        synchronized (this) {
            deliveries = List.copyOf(job.deliveries);
        }
        metrics.answered(outcome(reply), (System.nanoTime() - job.arrivedNanos) / 1e9);
        for (Delivery delivery : deliveries) {
            replies.complete(delivery, reply);
        }
    }
}
