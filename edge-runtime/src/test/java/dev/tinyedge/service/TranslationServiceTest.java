package dev.tinyedge.service;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tinyedge.board.Profile;
import dev.tinyedge.board.ThermalGuard;
import dev.tinyedge.translate.Language;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The queue's logic with a translator whose speed the test sets; the MQTT side is tested with Mosquitto. */
class TranslationServiceTest {
    /** A reply as it would go out, in its JSON form. */
    private record Sent(Delivery delivery, ObjectNode reply, boolean last) {
    }

    private final List<Sent> sent = new CopyOnWriteArrayList<>();
    /** Partials the channel turns away from now on, as a full in-flight window would. */
    private final java.util.concurrent.atomic.AtomicInteger refusePartials = new java.util.concurrent.atomic.AtomicInteger();
    private final ReplyChannel channel = new ReplyChannel() {
        @Override
        public boolean partial(Delivery delivery, Reply.Partial reply) {
            if (refusePartials.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                return false;
            }
            sent.add(new Sent(delivery, ProtocolJson.tree(reply), false));
            return true;
        }

        @Override
        public void complete(Delivery delivery, Reply.Final reply) {
            sent.add(new Sent(delivery, ProtocolJson.tree(reply), true));
        }
    };
    private TranslationService service;

    private TranslationService start(ScriptedTranslator translator, int queueSize, Duration timeout) {
        return start(translator, queueSize, timeout, BoardSignals.NONE);
    }

    private TranslationService start(ScriptedTranslator translator, int queueSize, Duration timeout, BoardSignals board) {
        service = new TranslationService(translator, new TranslationService.Limits(queueSize, timeout,
                Duration.ofMinutes(10), 100), "node-1", channel, board);
        return service;
    }

    @AfterEach
    void stop() throws InterruptedException {
        service.stop(Duration.ZERO);
    }

    private static Request request(String id, String text, boolean stream) {
        return new Request(id, text, Language.of("de").orElseThrow(), null, stream, 100);
    }

    private static Delivery delivery(int packetId, boolean redelivered) {
        return new Delivery("replies/" + packetId, new byte[]{(byte) packetId}, packetId, 1, 1, redelivered);
    }

    private List<Sent> finals(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            List<Sent> finals = sent.stream().filter(Sent::last).toList();
            if (finals.size() >= count) {
                return finals;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("expected " + count + " final replies, got " + sent);
    }

    private static String code(Sent sent) {
        return sent.reply().path("error").path("code").asText(sent.reply().path("status").asText());
    }

    @Test
    void aPartialTheChannelCannotTakeGoesWithTheNextOne() throws InterruptedException {
        start(new ScriptedTranslator(1), 20, Duration.ofSeconds(10));
        refusePartials.set(2); // "ONE" and " TWO" find the window full; " THREE" carries all three
        service.submit(request("a", "one two three four", true), delivery(1, false));
        Sent result = finals(1).getFirst();
        assertEquals("ONE TWO THREE FOUR", result.reply().get("translation").asText());
        List<Sent> partials = sent.stream().filter(s -> !s.last()).toList();
        assertEquals(List.of(0, 1), partials.stream().map(p -> p.reply().get("seq").asInt()).toList(),
                "no seq is skipped for the partials that were not sent");
        assertEquals(List.of("ONE TWO THREE", " FOUR"), partials.stream().map(p -> p.reply().get("delta").asText()).toList());
    }

    @Test
    void streamsPartialsInOrderThenTheResult() throws InterruptedException {
        start(new ScriptedTranslator(1), 20, Duration.ofSeconds(10));
        service.submit(request("a", "one two three", true), delivery(1, false));
        Sent result = finals(1).getFirst();
        assertEquals("ONE TWO THREE", result.reply().get("translation").asText());
        assertEquals("node-1", result.reply().get("node").asText());
        List<Sent> partials = sent.stream().filter(s -> !s.last()).toList();
        assertEquals(3, partials.size());
        StringBuilder joined = new StringBuilder();
        for (int i = 0; i < partials.size(); i++) {
            assertEquals(i, partials.get(i).reply().get("seq").asInt());
            joined.append(partials.get(i).reply().get("delta").asText());
        }
        assertEquals("ONE TWO THREE", joined.toString());
        assertEquals(sent.getLast(), result, "the result comes after every partial");
    }

    @Test
    void answersBusyBeyondTheQueueButNeverARedelivery() throws InterruptedException {
        ScriptedTranslator translator = new ScriptedTranslator(200);
        start(translator, 2, Duration.ofSeconds(10));
        for (int i = 1; i <= 3; i++) { // one runs, two wait
            service.submit(request("r" + i, "word", false), delivery(i, false));
            Thread.sleep(20);
        }
        service.submit(request("r4", "word", false), delivery(4, false));
        service.submit(request("r5", "word", false), delivery(5, true));
        Sent busy = finals(1).getFirst();
        assertEquals("busy", code(busy));
        assertEquals(4, busy.delivery().packetId());
        assertTrue(busy.reply().get("retry_after_ms").asLong() > 0);
        List<Sent> all = finals(5);
        assertEquals(4, all.stream().filter(s -> code(s).equals("ok")).count());
    }

    @Test
    void aHotBoardRunsOnFewerThreadsAndAboveItsHardLimitAnswersBusy(@TempDir Path sys) throws Exception {
        Path zone = Files.createDirectories(sys.resolve("sys/class/thermal/thermal_zone0"));
        Files.writeString(zone.resolve("type"), "cpu-thermal\n");
        Files.writeString(zone.resolve("temp"), "85000\n");
        ThermalGuard thermal = new ThermalGuard(sys, new Profile.Thermal("cpu-thermal", 75.0, 82.0), 4);
        List<Integer> threads = new CopyOnWriteArrayList<>();
        start(new ScriptedTranslator(1), 20, Duration.ofSeconds(10), new BoardSignals(thermal, null, threads::add));

        service.submit(request("hot", "word", false), delivery(1, false));
        service.submit(request("redelivered", "word", false), delivery(2, true));
        List<Sent> hot = finals(2);
        assertEquals("busy", code(hot.stream().filter(s -> s.delivery().packetId() == 1).findFirst().orElseThrow()));
        assertEquals("ok", code(hot.stream().filter(s -> s.delivery().packetId() == 2).findFirst().orElseThrow()),
                "a redelivery is never refused");

        Files.writeString(zone.resolve("temp"), "78000\n"); // below hard by its hysteresis, above soft
        service.submit(request("warm", "word", false), delivery(3, false));
        assertEquals("ok", code(finals(3).stream().filter(s -> s.delivery().packetId() == 3).findFirst().orElseThrow()));
        assertEquals(2, threads.getLast(), "above the soft limit the model runs on half the threads");

        Files.writeString(zone.resolve("temp"), "60000\n");
        service.submit(request("cool", "word", false), delivery(4, false));
        assertEquals("ok", code(finals(4).stream().filter(s -> s.delivery().packetId() == 4).findFirst().orElseThrow()));
        assertEquals(4, threads.getLast(), "all threads again once cool");
    }

    @Test
    void cancelsQueuedAndRunningRequests() throws InterruptedException {
        start(new ScriptedTranslator(100), 20, Duration.ofSeconds(10));
        service.submit(request("running", "a b c d e f g h", true), delivery(1, false));
        service.submit(request("queued", "a", false), delivery(2, false));
        Thread.sleep(150);
        assertTrue(service.cancel("queued"));
        assertTrue(service.cancel("running"));
        assertFalse(service.cancel("unknown"));
        List<Sent> finals = finals(2);
        assertEquals(List.of("cancelled", "cancelled"), finals.stream().map(TranslationServiceTest::code).toList());
        assertEquals(0, service.stats().served());
        assertEquals(2, service.stats().errors());
    }

    @Test
    void timesOutQueuedAndRunningRequests() throws InterruptedException {
        start(new ScriptedTranslator(100), 20, Duration.ofMillis(250));
        service.submit(request("slow", "a b c d e f g h i j", false), delivery(1, false));
        service.submit(request("waiting", "a", false), delivery(2, false));
        List<Sent> finals = finals(2);
        assertEquals(List.of("timeout", "timeout"), finals.stream().map(TranslationServiceTest::code).toList());
    }

    @Test
    void answersARepeatedIdFromTheStoredResult() throws InterruptedException {
        ScriptedTranslator translator = new ScriptedTranslator(1);
        start(translator, 20, Duration.ofSeconds(10));
        service.submit(request("same", "hello", false), delivery(1, false));
        finals(1);
        service.submit(request("same", "hello", false), delivery(2, false));
        List<Sent> finals = finals(2);
        assertEquals(1, translator.calls.get());
        // the stored result is kept as the JSON it was published as: the repeat gets the same bytes
        assertEquals(finals.get(0).reply().toString(), finals.get(1).reply().toString());
        assertEquals(2, finals.get(1).delivery().packetId());
    }

    @Test
    void aRepeatWhileRunningJoinsTheRunningRequest() throws InterruptedException {
        ScriptedTranslator translator = new ScriptedTranslator(50);
        start(translator, 20, Duration.ofSeconds(10));
        service.submit(request("same", "a b c", false), delivery(1, false));
        Thread.sleep(30);
        service.submit(request("same", "a b c", false), delivery(2, true));
        List<Sent> finals = finals(2);
        assertEquals(1, translator.calls.get());
        assertEquals(List.of(1, 2), new ArrayList<>(finals.stream().map(s -> s.delivery().packetId()).toList()));
    }

    @Test
    void withEverySlotTakenRequestsQueueAndBeyondTheQueueTheyAreBusy() throws InterruptedException {
        ScriptedTranslator translator = new ScriptedTranslator(200, 2);
        start(translator, 2, Duration.ofSeconds(10));
        assertEquals(2, service.parallel());
        for (int i = 1; i <= 4; i++) { // two run, two wait
            service.submit(request("r" + i, "word", false), delivery(i, false));
            Thread.sleep(20);
        }
        assertEquals(2, service.stats().active());
        assertEquals(2, service.stats().queueDepth());
        service.submit(request("r5", "word", false), delivery(5, false));
        Sent busy = finals(1).getFirst();
        assertEquals("busy", code(busy));
        assertEquals(5, busy.delivery().packetId());
        List<Sent> all = finals(5);
        assertEquals(4, all.stream().filter(s -> code(s).equals("ok")).count());
        assertEquals(2, translator.mostAtOnce.get(), "two at once, never more");
    }

    @Test
    void cancelOrTimeoutOfOneRunningRequestFreesItsSlotAndLeavesTheOtherRunning() throws InterruptedException {
        ScriptedTranslator translator = new ScriptedTranslator(50, 2);
        start(translator, 20, Duration.ofMillis(1500));
        service.submit(request("cancelled", "a b c d e f g h i j k l m n o p q r s t", false), delivery(1, false));
        service.submit(request("long", "a b c d e f g h i j k l", true), delivery(2, false));
        service.submit(request("waiting", "a b", false), delivery(3, false));
        Thread.sleep(100);
        assertEquals(1, service.stats().queueDepth(), "both slots are taken");
        assertTrue(service.cancel("cancelled"));
        List<Sent> finals = finals(3);
        assertEquals(List.of(1, 3, 2), finals.stream().map(s -> s.delivery().packetId()).toList(),
                "the waiting request ran in the freed slot while the long one went on");
        assertEquals(List.of("cancelled", "ok", "ok"), finals.stream().map(TranslationServiceTest::code).toList());
        assertEquals("A B C D E F G H I J K L", finals.get(2).reply().get("translation").asText());
        List<Integer> seqs = sent.stream().filter(s -> !s.last() && s.delivery().packetId() == 2)
                .map(s -> s.reply().get("seq").asInt()).toList();
        assertEquals(java.util.stream.IntStream.range(0, 12).boxed().toList(), seqs, "its partials, in order");

        service.submit(request("slow", "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f", false),
                delivery(4, false));
        service.submit(request("quick", "a", false), delivery(5, false));
        List<Sent> later = finals(5);
        assertEquals(List.of(5, 4), later.subList(3, 5).stream().map(s -> s.delivery().packetId()).toList());
        assertEquals("timeout", code(later.get(4)));
        service.submit(request("after", "a b", false), delivery(6, false));
        assertEquals("ok", code(finals(6).get(5)), "the timed-out request's slot serves again");
    }

    @Test
    void releasesQueuedRequestsOnStop() throws InterruptedException {
        start(new ScriptedTranslator(100), 20, Duration.ofSeconds(10));
        service.submit(request("running", "a b", false), delivery(1, false));
        service.submit(request("queued", "a", false), delivery(2, false));
        Thread.sleep(50);
        service.stop(Duration.ofSeconds(5));
        service.submit(request("late", "a", false), delivery(3, false));
        List<Sent> finals = sent.stream().filter(Sent::last).toList();
        assertEquals(1, finals.size(), "only the running request is answered: " + finals);
        assertEquals(1, finals.getFirst().delivery().packetId());
    }
}
