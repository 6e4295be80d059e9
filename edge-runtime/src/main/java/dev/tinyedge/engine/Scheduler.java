package dev.tinyedge.engine;

import dev.tinyedge.backend.Batch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Continuous batching: up to {@link Engine#slots()} generations at once, each in a {@link Session} of its own,
 * stepped together by one thread. Every step evaluates one token for each sequence that decodes and a chunk of
 * prompt for sequences being admitted, in one forward pass ({@link Batch}): the weights are read once per step
 * for all of them, while attention stays per sequence. Sequences join and leave between steps; prompt chunks
 * fill what the decoding tokens leave of one batch ({@link Batch#maxTokens()}), so that an arrival slows the
 * running streams by a bounded amount per step instead of stalling them for its whole prompt, and a translation
 * request's own part of its prompt (the instructions are held already) mostly fits one step.
 *
 * <p>A new sequence takes the free session that holds the longest start of its prompt; where another session
 * holds a longer one (the shared instructions), it is copied from there rather than evaluated again.
 * {@link #generate} blocks its caller until its sequence ends; callers on several threads run together.
 */
public final class Scheduler implements AutoCloseable {
    private final Engine engine;
    private final boolean reusePrefix;
    private final Session[] sessions;
    /** Per slot: the sequence in it (stepping thread only), and its logits, copied out of the step's. */
    private final Sequence[] occupants;
    private final float[][] logits;
    private final Batch batch;
    private final Sequence[] stepSequences;
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    /** Admitted sequences in the order they came (stepping thread only). */
    private final List<Sequence> running = new ArrayList<>();
    private final Thread stepper;
    private boolean closed;

    /**
     * Opens a session on every slot of the engine's KV cache.
     *
     * @param reusePrefix  keep what a slot holds between sequences, so a prompt is evaluated only from where it
     *                     differs (off only to measure what that saves)
     * @param sharedPrefix tokens every prompt starts with, evaluated now in one slot and copied into the others;
     *                     empty for none
     */
    public Scheduler(Engine engine, boolean reusePrefix, int[] sharedPrefix) {
        this.engine = engine;
        this.reusePrefix = reusePrefix;
        int slots = engine.slots();
        sessions = new Session[slots];
        for (int i = 0; i < slots; i++) {
            sessions[i] = engine.openSession();
        }
        occupants = new Sequence[slots];
        logits = new float[slots][engine.config().vocabSize()];
        batch = new Batch(engine.maxBatch(), slots);
        stepSequences = new Sequence[slots];
        if (reusePrefix && sharedPrefix.length > 0) {
            sessions[0].prefill(sharedPrefix);
            for (int i = 1; i < slots; i++) {
                sessions[i].copyPrefixFrom(sessions[0], sessions[0].length());
            }
        }
        stepper = Thread.ofPlatform().name("batch-steps").daemon().start(this::run);
    }

    /** Sequences generated at once. */
    public int parallel() {
        return sessions.length;
    }

    public int contextLength() {
        return engine.contextLength();
    }

    /**
     * Generates after {@code prompt} alongside the other sequences, as {@link Session#generate} does alone, and
     * returns when this sequence ends. The listener and {@link Generation.Settings#cancelled} are called on the
     * stepping thread, between steps.
     *
     * @throws IllegalArgumentException when the prompt is empty or leaves no room in the context
     * @throws IllegalStateException    once the scheduler is closed
     */
    public Generation.Result generate(int[] prompt, Generation.Settings settings, Generation.Listener listener) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        if (prompt.length >= contextLength()) {
            throw new IllegalArgumentException("the prompt has " + prompt.length
                    + " tokens, which leaves no room in the context of " + contextLength());
        }
        Sequence sequence = new Sequence(prompt, settings, listener);
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the scheduler is closed");
            }
            waiting.add(sequence);
            notifyAll();
        }
        try {
            return sequence.done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Ends once the sequences running or waiting now have ended; later calls to {@link #generate} are refused. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            stepper.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Session session : sessions) {
            session.close();
        }
    }

    private void run() {
        while (true) {
            synchronized (this) {
                while (running.isEmpty() && waiting.isEmpty() && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed && running.isEmpty() && waiting.isEmpty()) {
                    return;
                }
                while (!waiting.isEmpty() && running.size() < sessions.length) {
                    Sequence sequence = waiting.poll();
                    try {
                        admit(sequence);
                    } catch (RuntimeException | Error e) {
                        sequence.done.completeExceptionally(e);
                    }
                }
            }
            step();
        }
    }

    /** Puts the sequence in the free session that holds most of its prompt, copying a longer start from another. */
    private void admit(Sequence sequence) {
        int[] prompt = sequence.prompt;
        Session best = null;
        for (Session session : sessions) {
            if (occupants[session.slot()] == null
                    && (best == null || session.heldPrefix(prompt) > best.heldPrefix(prompt))) {
                best = session;
            }
        }
        if (!reusePrefix) {
            best.clear();
        } else {
            Session longest = best;
            for (Session session : sessions) {
                if (session.heldPrefix(prompt) > longest.heldPrefix(prompt)) {
                    longest = session;
                }
            }
            if (longest != best) {
                best.copyPrefixFrom(longest, longest.heldPrefix(prompt));
            }
        }
        sequence.start(best, new Generation(engine.tokenizer(), sequence.settings, sequence.listener,
                contextLength() - prompt.length));
        occupants[best.slot()] = sequence;
        running.add(sequence);
    }

    /** One forward pass: a token of every decoding sequence, then prompt chunks of admitted ones. */
    private void step() {
        batch.clear();
        int segments = 0;
        int decoding = 0;
        for (Sequence sequence : running) {
            if (sequence.decoding) {
                batch.add(sequence.session.slot(), sequence.next, 0, 1, sequence.session.length());
                stepSequences[segments++] = sequence;
                decoding++;
            }
        }
        int promptBudget = batch.maxTokens() - decoding;
        for (int i = 0; i < running.size() && promptBudget > 0; i++) {
            Sequence sequence = running.get(i);
            if (sequence.decoding) {
                continue;
            }
            if (sequence.position > sequence.reused && sequence.generation.cancelledBeforeNextChunk()) {
                finish(sequence, sequence.generation.result(sequence.prompt.length, sequence.position - sequence.reused,
                        System.nanoTime() - sequence.startNanos, 0, 0));
                i--;
                continue;
            }
            int count = Math.min(promptBudget, sequence.prompt.length - sequence.position);
            batch.add(sequence.session.slot(), sequence.prompt, sequence.position, count, sequence.position);
            sequence.chunk = count;
            stepSequences[segments++] = sequence;
            promptBudget -= count;
        }
        if (segments == 0) {
            return;
        }
        float[] stepLogits;
        try {
            stepLogits = engine.evaluate(batch);
        } catch (RuntimeException | Error e) {
            for (int s = 0; s < segments; s++) {
                stepSequences[s].session.clear(); // what the slot holds past its prefix is unknown now
                fail(stepSequences[s], e);
            }
            return;
        }
        int vocabulary = engine.config().vocabSize();
        for (int s = 0; s < segments; s++) {
            Sequence sequence = stepSequences[s];
            stepSequences[s] = null;
            Session session = sequence.session;
            float[] own = logits[session.slot()];
            try {
                if (sequence.decoding) {
                    session.evaluated(sequence.next, 0, 1);
                    sequence.decoded++;
                } else {
                    session.evaluated(sequence.prompt, sequence.position, sequence.chunk);
                    sequence.position += sequence.chunk;
                    if (sequence.position < sequence.prompt.length) {
                        continue;
                    }
                    sequence.decoding = true;
                }
                System.arraycopy(stepLogits, s * vocabulary, own, 0, vocabulary);
                int token = sequence.generation.next(own);
                if (sequence.firstTokenNanos == 0) {
                    sequence.firstTokenNanos = System.nanoTime();
                }
                if (token < 0) {
                    long now = System.nanoTime();
                    finish(sequence, sequence.generation.result(sequence.prompt.length,
                            sequence.prompt.length - sequence.reused, sequence.firstTokenNanos - sequence.startNanos,
                            sequence.decoded, now - sequence.firstTokenNanos));
                } else {
                    sequence.next[0] = token;
                }
            } catch (RuntimeException | Error e) {
                fail(sequence, e);
            }
        }
    }

    private void finish(Sequence sequence, Generation.Result result) {
        leave(sequence);
        sequence.done.complete(result);
    }

    private void fail(Sequence sequence, Throwable error) {
        leave(sequence);
        sequence.done.completeExceptionally(error);
    }

    private void leave(Sequence sequence) {
        running.remove(sequence);
        occupants[sequence.session.slot()] = null;
    }

    /** A generation on its way through the scheduler; its fields are the stepping thread's. */
    private static final class Sequence {
        final int[] prompt;
        final Generation.Settings settings;
        final Generation.Listener listener;
        final CompletableFuture<Generation.Result> done = new CompletableFuture<>();
        /** The token to evaluate next while decoding. */
        final int[] next = new int[1];
        Session session;
        Generation generation;
        /** Prompt tokens the session held already; the next prompt position to evaluate; the chunk in this step. */
        int reused;
        int position;
        int chunk;
        boolean decoding;
        int decoded;
        long startNanos;
        long firstTokenNanos;

        Sequence(int[] prompt, Generation.Settings settings, Generation.Listener listener) {
            this.prompt = prompt;
            this.settings = settings;
            this.listener = listener;
        }

        void start(Session session, Generation generation) {
            this.session = session;
            this.generation = generation;
            reused = session.heldPrefix(prompt);
            session.keep(reused);
            position = reused;
            startNanos = System.nanoTime();
        }
    }
}
