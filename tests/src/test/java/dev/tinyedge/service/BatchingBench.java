package dev.tinyedge.service;

import dev.tinyedge.translate.Language;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * bench/batching.sh's client side: N devices asking a running daemon at once, each sending its requests one after
 * another (streamed, so the first partial marks the time to the first token), through the broker as a board's
 * clients would. Prints one JSON line: aggregate generated tokens per second over the wall time, and per-request
 * latency and time to first token (p50, p99); and the time to first token of the requests after each client's
 * first, which arrive one by one at a board busy with the other clients' (the first ones arrive all at once).
 *
 * <pre>java ... dev.tinyedge.service.BatchingBench BROKER_URL TOPIC_PREFIX CLIENTS REQUESTS_PER_CLIENT MAX_TOKENS</pre>
 */
public final class BatchingBench {
    /** Words enough that the translator's budget (2 per input token + 16) allows every one of MAX_TOKENS. */
    private static final String TEXT = "The quick brown fox jumps over the lazy dog while the train to the station "
            + "leaves at noon and the children wave from the bridge over the river";

    private record Sample(long latencyNanos, long firstTokenNanos, int tokens, boolean later) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: BatchingBench BROKER_URL TOPIC_PREFIX CLIENTS REQUESTS_PER_CLIENT MAX_TOKENS");
            System.exit(2);
        }
        String broker = args[0];
        String prefix = args[1];
        int clients = Integer.parseInt(args[2]);
        int requests = Integer.parseInt(args[3]);
        int maxTokens = Integer.parseInt(args[4]);
        List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
        List<TranslationClient> connections = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            connections.add(new TranslationClient(broker, prefix));
        }
        AtomicLong sequence = new AtomicLong();
        long started = System.nanoTime();
        try (ExecutorService devices = Executors.newFixedThreadPool(clients)) {
            List<Future<?>> running = new ArrayList<>();
            for (TranslationClient client : connections) {
                running.add(devices.submit(() -> {
                    for (int r = 0; r < requests; r++) {
                        // a text of its own per request: no answer comes from the dedup window
                        String id = "bench-" + started + "-" + sequence.incrementAndGet();
                        Request request = new Request(id, TEXT + " " + id, Language.of("de").orElseThrow(), null,
                                true, maxTokens);
                        long sent = System.nanoTime();
                        long[] first = {0};
                        Reply.Final reply = client.translate(request, Duration.ofSeconds(60), Duration.ofSeconds(600),
                                partial -> {
                                    if (first[0] == 0) {
                                        first[0] = System.nanoTime();
                                    }
                                });
                        long done = System.nanoTime();
                        if (!(reply instanceof Reply.Result result)) {
                            throw new IllegalStateException("request " + id + " failed: " + reply);
                        }
                        samples.add(new Sample(done - sent, (first[0] == 0 ? done : first[0]) - sent,
                                result.tokens().generated(), r > 0));
                    }
                    return null;
                }));
            }
            for (Future<?> device : running) {
                device.get();
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        for (TranslationClient client : connections) {
            client.close();
        }
        long tokens = samples.stream().mapToLong(Sample::tokens).sum();
        List<Long> latency = samples.stream().map(Sample::latencyNanos).sorted().toList();
        List<Long> firstToken = samples.stream().map(Sample::firstTokenNanos).sorted().toList();
        List<Long> laterFirstToken = samples.stream().filter(Sample::later).map(Sample::firstTokenNanos).sorted()
                .toList();
        System.out.printf(Locale.ROOT, "{\"clients\":%d,\"requests\":%d,\"generated_tokens\":%d,\"seconds\":%.3f,"
                        + "\"aggregate_tok_s\":%.2f,\"latency_p50_ms\":%.0f,\"latency_p99_ms\":%.0f,"
                        + "\"ttft_p50_ms\":%.0f,\"ttft_p99_ms\":%.0f,\"later_ttft_p50_ms\":%.0f}%n",
                clients, samples.size(), tokens, seconds, tokens / seconds, percentile(latency, 50),
                percentile(latency, 99), percentile(firstToken, 50), percentile(firstToken, 99),
                laterFirstToken.isEmpty() ? Double.NaN : percentile(laterFirstToken, 50));
    }

    /** The nearest-rank percentile, in milliseconds. */
    private static double percentile(List<Long> sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1)) / 1e6;
    }
}
