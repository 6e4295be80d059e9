package dev.tinyedge.service;

import dev.tinyedge.translate.Language;
import dev.tinyedge.translate.TinyModel;
import org.eclipse.paho.mqttv5.common.MqttMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The soak ({@code bench/soak.sh}): 1,000 requests from 20 clients through a real Mosquitto to {@code bin/tinyedge
 * serve} on the tiny synthetic model, while faults come on a schedule: the daemon killed with SIGKILL five times
 * (and restarted), Mosquitto restarted three times, a second daemon joining the shared subscription and leaving
 * it. 10% of the requests are malformed, 5% are cancelled right after they are sent.
 *
 * <p>Well-formed requests go through the project's own {@link TranslationClient} (it retries with the same id
 * and drops repeats); malformed requests and cancels through a raw client per soak client. A monitor subscribed to
 * every reply topic checks that each reply went to the client that asked. The daemon's RSS, threads and open file
 * descriptors are sampled from /proc; after the last fault and a warm-up they must stay within 5%.
 *
 * <p>Prints one summary line; writes the table to the file named by the first argument. Exits 1 when a check
 * fails. Run from the tests module's folder (bin/tinyedge is found from there).
 */
public final class Soak {
    private static final int CLIENTS = 20;
    private static final int REQUESTS = 1000;
    private static final int MALFORMED = 100;
    private static final int CANCELLED = 50;
    /**
     * Tokens per request: enough that requests outlast the faults' handling (a daemon joining takes seconds, and
     * with 8 tokens the batching daemon completed 330 requests meanwhile, which left the flatness check no load).
     */
    private static final int TOKENS = 24;
    /** Completed requests at which each fault comes; the last one leaves the final stretch for the flatness check. */
    private static final List<Fault> SCHEDULE = List.of(
            new Fault(30, "kill"), new Fault(60, "broker"), new Fault(90, "kill"), new Fault(110, "join"),
            new Fault(130, "kill"), new Fault(160, "broker"), new Fault(190, "kill"), new Fault(210, "leave"),
            new Fault(230, "broker"), new Fault(250, "kill"));
    /** Requests served between two faults at least, so that they do not come back to back. */
    private static final int BETWEEN_FAULTS = 20;
    /**
     * Requests completed after the last fault before the flatness samples start: the JVM's heap and code cache
     * grow to their working size first (the JIT compiles the request path over the first few hundred).
     */
    private static final int WARM_UP = 250;
    private static final double FLAT = 0.05;
    private static final Duration RETRY_AFTER = Duration.ofSeconds(8);
    private static final Duration GIVE_UP = Duration.ofMinutes(5);

    private record Fault(int afterCompleted, String kind) {
    }

    private enum Kind { TRANSLATE, CANCEL, MALFORMED }

    /** A malformed request: its payload for an id, and the error code it must get. */
    private record Malformation(String name, String code, Function<String, byte[]> payload) {
    }

    private static final List<Malformation> MALFORMATIONS = List.of(
            new Malformation("not JSON", "bad_request", id -> bytes("{\"id\":\"" + id + "\",\"text\":")),
            new Malformation("no text", "bad_request", id -> bytes("{\"id\":\"" + id + "\",\"target\":\"de\"}")),
            new Malformation("empty text", "bad_request", id -> bytes("{\"id\":\"" + id + "\",\"text\":\" \",\"target\":\"de\"}")),
            new Malformation("text not a string", "bad_request", id -> bytes("{\"id\":\"" + id + "\",\"text\":7,\"target\":\"de\"}")),
            new Malformation("unknown language", "unsupported_language",
                    id -> bytes("{\"id\":\"" + id + "\",\"text\":\"hello\",\"target\":\"xx\"}")),
            new Malformation("text over max_input_chars", "too_long",
                    id -> bytes("{\"id\":\"" + id + "\",\"text\":\"" + "long ".repeat(1000) + "\",\"target\":\"de\"}")),
            new Malformation("payload over max_payload_bytes", "too_long",
                    id -> bytes("{\"id\":\"" + id + "\",\"text\":\"hi\",\"target\":\"de\",\"pad\":\"" + "p".repeat(70_000) + "\"}")),
            new Malformation("not UTF-8", "bad_request", id -> {
                byte[] json = bytes("{\"id\":\"" + id + "\",\"text\":\"x\",\"target\":\"de\"}");
                json[json.length - 3] = (byte) 0xff;
                return json;
            }));

    private record Planned(String id, int client, Kind kind, Malformation malformation) {
    }

    /** What one request came to. */
    private record Outcome(Planned planned, String result, boolean passed) {
    }

    /** One look at the daemon's process. */
    private record Sample(long seconds, int completed, long pid, long rssKb, int threads, int fds) {
    }

    private final Path dir;
    private final Mosquitto mosquitto;
    private final String prefix = "soak" + Long.toHexString(System.nanoTime() & 0xffffff);
    private final DaemonProcess a;
    private final DaemonProcess b;
    private final AtomicInteger completed = new AtomicInteger();
    private final List<Outcome> outcomes = new CopyOnWriteArrayList<>();
    private final List<String> timeline = new CopyOnWriteArrayList<>();
    private final List<Sample> samples = new CopyOnWriteArrayList<>();
    /** Every final reply the monitor saw: reply topic, then the request id it answers. */
    private final List<String[]> monitored = new CopyOnWriteArrayList<>();
    /** Messages on a reply topic that were not protocol replies. */
    private final AtomicInteger unparseable = new AtomicInteger();
    private final long started = System.nanoTime();
    private volatile int flatFrom = Integer.MAX_VALUE;
    /** The daemon's live heap when the flatness samples start, and after the last request. */
    private volatile long liveHeapFirstKb = -1;
    private volatile long liveHeapLastKb = -1;

    private Soak(Path dir) throws Exception {
        this.dir = dir;
        this.mosquitto = new Mosquitto("");
        this.a = new DaemonProcess(dir, "a", TinyModel.path(), mosquitto.url(), prefix);
        this.b = new DaemonProcess(dir, "b", TinyModel.path(), mosquitto.url(), prefix);
    }

    public static void main(String[] args) throws Exception {
        Path table = Path.of(args[0]);
        Path dir = Files.createTempDirectory("tinyedge-soak");
        Soak soak = new Soak(dir);
        boolean passed;
        try {
            passed = soak.run(table);
        } finally {
            soak.a.close();
            soak.b.close();
            soak.mosquitto.close();
        }
        System.exit(passed ? 0 : 1);
    }

    private boolean run(Path table) throws Exception {
        a.start();
        note("daemon a serving (pid " + a.pid() + ")");
        List<Planned> plan = plan();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(this::sample, 0, 500, TimeUnit.MILLISECONDS);
        Thread faults = Thread.ofPlatform().name("faults").start(this::faults);
        try (RawSessionClient monitor = new RawSessionClient(mosquitto.url(), prefix + "-monitor",
                prefix + "/v1/replies/#", this::monitor)) {
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                List<Planned> mine = plan.stream().filter(p -> p.client() == client).toList();
                running.add(clients.submit(() -> {
                    runClient(client, mine);
                    return null;
                }));
            }
            for (Future<?> future : running) {
                future.get(14, TimeUnit.MINUTES);
            }
            clients.shutdown();
            faults.join(TimeUnit.MINUTES.toMillis(2));
            Thread.sleep(2000); // late repeats reach the monitor
            liveHeapLastKb = liveHeapKb(a.pid());
            note("daemon a's live heap after a full GC: " + liveHeapLastKb / 1024 + " MB");
            // what the JVM's own memory did since the baseline: where an RSS change comes from
            System.err.println(run(jcmd(), Long.toString(a.pid()), "VM.native_memory", "summary.diff"));
        } finally {
            sampler.shutdownNow();
            faults.interrupt();
        }
        return report(table);
    }

    /** 1,000 requests, 100 of them malformed and 50 to be cancelled, shuffled and dealt to the clients in turn. */
    private static List<Planned> plan() {
        List<Kind> kinds = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            kinds.add(i < MALFORMED ? Kind.MALFORMED : i < MALFORMED + CANCELLED ? Kind.CANCEL : Kind.TRANSLATE);
        }
        Collections.shuffle(kinds, new Random(17));
        List<Planned> plan = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            int client = i % CLIENTS;
            Malformation malformation = kinds.get(i) == Kind.MALFORMED ? MALFORMATIONS.get(i % MALFORMATIONS.size()) : null;
            plan.add(new Planned("c%02d-r%03d".formatted(client, i / CLIENTS), client, kinds.get(i), malformation));
        }
        return plan;
    }

    private void runClient(int client, List<Planned> requests) throws Exception {
        String rawTopic = prefix + "/v1/replies/raw-c%02d".formatted(client);
        Map<String, LinkedBlockingQueue<Reply>> rawReplies = new ConcurrentHashMap<>();
        try (TranslationClient translator = new TranslationClient(mosquitto.url(), prefix);
             RawSessionClient raw = new RawSessionClient(mosquitto.url(), prefix + "-raw-" + client, rawTopic,
                     (topic, message) -> {
                         String id = new String(message.getProperties().getCorrelationData(), StandardCharsets.UTF_8);
                         LinkedBlockingQueue<Reply> queue = rawReplies.get(id);
                         Reply reply = reply(message);
                         if (queue != null && reply != null) {
                             queue.add(reply);
                         }
                     })) {
            ScheduledExecutorService cancels = Executors.newSingleThreadScheduledExecutor();
            Random random = new Random(client);
            try {
                for (Planned request : requests) {
                    outcomes.add(switch (request.kind()) {
                        case MALFORMED -> malformed(request, raw, rawTopic, rawReplies);
                        case TRANSLATE, CANCEL -> translate(request, translator, raw, cancels, random);
                    });
                    completed.incrementAndGet();
                    Thread.sleep(random.nextInt(50));
                }
            } finally {
                cancels.shutdownNow();
            }
        }
    }

    private Outcome translate(Planned request, TranslationClient client, RawSessionClient raw,
                              ScheduledExecutorService cancels, Random random) throws InterruptedException {
        Request translation = new Request(request.id(), "soak request " + request.id() + " about the weather",
                Language.of("fr").orElseThrow(), null, false, TOKENS);
        if (request.kind() == Kind.CANCEL) {
            byte[] cancel = bytes("{\"id\":\"" + request.id() + "\"}");
            cancels.schedule(() -> raw.publish(prefix + "/v1/cancel", cancel, null, null), random.nextInt(30),
                    TimeUnit.MILLISECONDS);
        }
        try {
            Reply.Final reply = client.translate(translation, RETRY_AFTER, GIVE_UP, partial -> { });
            String result = outcome(reply);
            boolean ok = request.id().equals(reply.id())
                    && (result.equals("ok") || request.kind() == Kind.CANCEL && result.equals("cancelled"));
            return new Outcome(request, result, ok);
        } catch (TranslationClient.NoReplyException e) {
            return new Outcome(request, "no reply", false);
        }
    }

    private Outcome malformed(Planned request, RawSessionClient raw, String rawTopic,
                              Map<String, LinkedBlockingQueue<Reply>> replies) throws InterruptedException {
        LinkedBlockingQueue<Reply> queue = new LinkedBlockingQueue<>();
        replies.put(request.id(), queue);
        byte[] payload = request.malformation().payload().apply(request.id());
        long end = System.nanoTime() + GIVE_UP.toNanos();
        try {
            while (System.nanoTime() < end) {
                // like any client: send, wait a while, send again (a malformed request is answered at once)
                if (!raw.publish(prefix + "/v1/translate", payload, rawTopic, bytes(request.id()))) {
                    Thread.sleep(500);
                    continue;
                }
                Reply reply = queue.poll(RETRY_AFTER.toMillis(), TimeUnit.MILLISECONDS);
                if (reply instanceof Reply.Final last && !(last instanceof Reply.Busy)) {
                    String code = outcome(last);
                    return new Outcome(request, code, code.equals(request.malformation().code()));
                }
            }
            return new Outcome(request, "no reply", false);
        } finally {
            replies.remove(request.id());
        }
    }

    /** Every final reply on any reply topic: which topic, which request. */
    private void monitor(String topic, MqttMessage message) {
        Reply reply = reply(message);
        if (reply == null) {
            unparseable.incrementAndGet();
            return;
        }
        if (reply instanceof Reply.Partial) {
            return;
        }
        String id = reply.id() == null ? "" : reply.id();
        if (!id.startsWith("c")) { // the id of a payload that was not JSON: the hex of its correlation data
            id = new String(HexFormat.of().parseHex(id), StandardCharsets.UTF_8);
        }
        monitored.add(new String[]{topic, id});
    }

    private void faults() {
        try {
            int previous = 0;
            for (Fault fault : SCHEDULE) {
                while (completed.get() < Math.max(fault.afterCompleted(), previous + BETWEEN_FAULTS)) {
                    Thread.sleep(50);
                }
                switch (fault.kind()) {
                    case "kill" -> {
                        long pid = a.pid();
                        a.kill();
                        note("kill -9 daemon a (pid " + pid + "), restarting it");
                        a.start();
                        note("daemon a serving again (pid " + a.pid() + ")");
                    }
                    case "broker" -> {
                        mosquitto.restart();
                        note("Mosquitto restarted");
                    }
                    case "join" -> {
                        note("starting daemon b");
                        b.start();
                        note("daemon b joined the shared subscription");
                    }
                    case "leave" -> {
                        b.terminate();
                        note("daemon b left (SIGTERM; its session keeps its share until it expires)");
                    }
                    default -> throw new IllegalStateException(fault.kind());
                }
                previous = completed.get();
            }
            int from = completed.get() + WARM_UP;
            note("faults done; warm-up until " + from + " requests are completed");
            while (completed.get() < from) {
                Thread.sleep(50);
            }
            // measured first: jcmd's attach starts a thread and a socket in the daemon, which then stay
            liveHeapFirstKb = liveHeapKb(a.pid());
            run(jcmd(), Long.toString(a.pid()), "VM.native_memory", "baseline");
            flatFrom = completed.get();
            note("daemon a's live heap after a full GC: " + liveHeapFirstKb / 1024 + " MB; flatness samples from here");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            note("fault failed: " + e.getMessage());
        }
    }

    /**
     * The daemon's live heap: what is left after a full collection ({@code jcmd PID GC.run}, then the used
     * bytes of the young and old generations, the unindented lines of {@code GC.heap_info}). A heap that leaks
     * grows here, whatever the JVM's sizing does to the RSS.
     */
    private static long liveHeapKb(long pid) throws IOException, InterruptedException {
        run(jcmd(), Long.toString(pid), "GC.run");
        long used = 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^\\S[^\\n]*? total \\d+K, used (\\d+)K")
                .matcher(run(jcmd(), Long.toString(pid), "GC.heap_info"));
        while (m.find()) {
            used += Long.parseLong(m.group(1));
        }
        return used;
    }

    private static String jcmd() {
        return Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd").toString();
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        return out;
    }

    private void note(String what) {
        String line = "%6.1f s  %4d done  %s".formatted((System.nanoTime() - started) / 1e9, completed.get(), what);
        timeline.add(line);
        System.err.println("soak: " + line);
    }

    private void sample() {
        long pid = a.pid();
        if (pid < 0) {
            return;
        }
        try {
            long rss = 0;
            int threads = 0;
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                } else if (line.startsWith("Threads:")) {
                    threads = Integer.parseInt(line.replaceAll("[^0-9]", ""));
                }
            }
            int fds;
            try (var list = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
                fds = (int) list.count();
            }
            samples.add(new Sample((System.nanoTime() - started) / 1_000_000_000, completed.get(), pid, rss, threads, fds));
        } catch (IOException | RuntimeException e) {
            // the process went away between the pid and the read (a kill): skip this sample
        }
    }

    private boolean report(Path table) throws IOException {
        List<String> failures = new ArrayList<>();
        for (Outcome outcome : outcomes) {
            if (!outcome.passed()) {
                failures.add(outcome.planned().id() + " (" + outcome.planned().kind()
                        + (outcome.planned().malformation() == null ? "" : ": " + outcome.planned().malformation().name())
                        + ") got " + outcome.result());
            }
        }
        if (outcomes.size() != REQUESTS) {
            failures.add(outcomes.size() + " of " + REQUESTS + " requests finished");
        }
        // each reply topic belongs to one client: the first id seen on it names the client, the others must match
        Map<String, String> owners = new ConcurrentHashMap<>();
        Map<String, Integer> repliesById = new ConcurrentHashMap<>();
        int misrouted = 0;
        for (String[] seen : monitored) {
            String client = seen[1].length() >= 3 ? seen[1].substring(0, 3) : seen[1];
            if (!client.equals(owners.computeIfAbsent(seen[0], topic -> client))) {
                misrouted++;
                failures.add("reply to " + seen[1] + " went to " + seen[0] + ", the topic of " + owners.get(seen[0]));
            }
            repliesById.merge(seen[1], 1, Integer::sum);
        }
        int repeats = repliesById.values().stream().mapToInt(n -> n - 1).sum();
        if (unparseable.get() > 0) {
            failures.add(unparseable.get() + " messages on the reply topics were not protocol replies");
        }

        // under load only: samples after the last reply would show an idle daemon flat
        List<Sample> flat = samples.stream().filter(s -> s.completed() >= flatFrom && s.completed() < REQUESTS).toList();
        String flatness;
        if (flat.size() < 5) {
            flatness = "too few samples under load after warm-up (" + flat.size() + ")";
            failures.add("flatness: " + flatness);
        } else {
            flatness = spread("RSS", flat.stream().mapToLong(Sample::rssKb).toArray(), failures) + ", "
                    + spread("threads", flat.stream().mapToLong(Sample::threads).toArray(), failures) + ", "
                    + spread("fds", flat.stream().mapToLong(Sample::fds).toArray(), failures);
        }
        if (liveHeapFirstKb <= 0 || liveHeapLastKb <= 0) {
            failures.add("the daemon's live heap was not measured");
        } else {
            double growth = (double) (liveHeapLastKb - liveHeapFirstKb) / liveHeapFirstKb;
            flatness += ", live heap %d-%d MB (%+.1f%%)".formatted(liveHeapFirstKb / 1024, liveHeapLastKb / 1024,
                    growth * 100);
            if (growth > FLAT) {
                failures.add("live heap grew %.1f%% after warm-up (at most %.0f%%)".formatted(growth * 100, FLAT * 100));
            }
        }
        long wrong = outcomes.stream().filter(o -> !o.passed()).count() + REQUESTS - Math.min(REQUESTS, outcomes.size());
        long ok = outcomes.stream().filter(o -> o.result().equals("ok")).count();
        long cancelled = outcomes.stream().filter(o -> o.result().equals("cancelled")).count();
        long malformedRight = outcomes.stream().filter(o -> o.planned().kind() == Kind.MALFORMED && o.passed()).count();
        double seconds = (System.nanoTime() - started) / 1e9;
        String summary = "soak: %s: %d requests, %d clients, %.0f s: %d ok, %d cancelled, %d/%d malformed answered "
                + "with their code, %d unanswered or wrong, %d misrouted, %d repeats dropped by id; %s";
        String line = summary.formatted(failures.isEmpty() ? "PASS" : "FAIL", outcomes.size(), CLIENTS, seconds, ok,
                cancelled, malformedRight, MALFORMED, wrong, misrouted, repeats, flatness);
        System.out.println(line);
        failures.stream().limit(30).forEach(f -> System.err.println("soak: " + f));
        Files.writeString(table, table(line, flat, failures));
        return failures.isEmpty();
    }

    /** "RSS 180-184 MB (2.2%)" and a failure when the spread is above {@link #FLAT}. */
    private static String spread(String name, long[] values, List<String> failures) {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (long v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        double spread = (double) (max - min) / min;
        if (spread > FLAT) {
            failures.add("%s not flat after warm-up: %d to %d (%.1f%%, at most %.0f%%)".formatted(name, min, max,
                    spread * 100, FLAT * 100));
        }
        String unit = name.equals("RSS") ? " MB" : "";
        long scale = name.equals("RSS") ? 1024 : 1;
        return "%s %d-%d%s (%.1f%%)".formatted(name, min / scale, max / scale, unit, spread * 100);
    }

    private String table(String summary, List<Sample> flat, List<String> failures) {
        StringBuilder out = new StringBuilder();
        out.append("`").append(summary).append("`\n\n");
        out.append("| kind | requests | answered as expected | outcomes |\n| --- | ---: | ---: | --- |\n");
        for (Kind kind : Kind.values()) {
            List<Outcome> mine = outcomes.stream().filter(o -> o.planned().kind() == kind).toList();
            Map<String, Integer> results = new java.util.TreeMap<>();
            mine.forEach(o -> results.merge(o.result(), 1, Integer::sum));
            out.append("| %s | %d | %d | %s |\n".formatted(kind.name().toLowerCase(), mine.size(),
                    mine.stream().filter(Outcome::passed).count(), results));
        }
        out.append("\nFaults, in order (seconds from the start, requests completed):\n\n```\n");
        timeline.forEach(t -> out.append(t).append('\n'));
        out.append("```\n\n");
        if (!flat.isEmpty()) {
            Sample first = flat.getFirst();
            Sample last = flat.getLast();
            out.append("| daemon a after warm-up (pid %d) | first sample | last sample | min | max |\n".formatted(last.pid()));
            out.append("| --- | ---: | ---: | ---: | ---: |\n");
            out.append(row("RSS (MB)", first.rssKb() / 1024, last.rssKb() / 1024,
                    flat.stream().mapToLong(Sample::rssKb).min().orElse(0) / 1024,
                    flat.stream().mapToLong(Sample::rssKb).max().orElse(0) / 1024));
            out.append(row("threads", first.threads(), last.threads(),
                    flat.stream().mapToLong(Sample::threads).min().orElse(0),
                    flat.stream().mapToLong(Sample::threads).max().orElse(0)));
            out.append(row("open file descriptors", first.fds(), last.fds(),
                    flat.stream().mapToLong(Sample::fds).min().orElse(0),
                    flat.stream().mapToLong(Sample::fds).max().orElse(0)));
            out.append("| live heap after a full GC (MB) | %d | %d | | |\n".formatted(liveHeapFirstKb / 1024,
                    liveHeapLastKb / 1024));
            out.append("\n%d samples, every 0.5 s, from request %d (%d s) to %d (%d s). RSS along the way (MB):".formatted(
                    flat.size(), first.completed(), first.seconds(), last.completed(), last.seconds()));
            for (int i = 0; i <= 8; i++) {
                Sample at = flat.get(i * (flat.size() - 1) / 8);
                out.append(" %d at %d".formatted(at.rssKb() / 1024, at.completed()));
                out.append(i < 8 ? "," : ".\n");
            }
        }
        if (!failures.isEmpty()) {
            out.append("\nFailures:\n\n");
            failures.stream().limit(30).forEach(f -> out.append("- ").append(f).append('\n'));
        }
        return out.toString();
    }

    private static String row(String name, long first, long last, long min, long max) {
        return "| %s | %d | %d | %d | %d |\n".formatted(name, first, last, min, max);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A reply as the protocol defines it, or null when the payload is not one. */
    private static Reply reply(MqttMessage message) {
        try {
            return ProtocolJson.readReply(message.getPayload());
        } catch (IOException e) {
            return null;
        }
    }

    /** "ok", or the error code. */
    private static String outcome(Reply.Final reply) {
        return switch (reply) {
            case Reply.Result result -> "ok";
            case Reply.Failure failure -> failure.code().wireName();
            case Reply.Busy busy -> ErrorCode.BUSY.wireName();
        };
    }
}
