package dev.tinyedge.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.translate.Language;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The wire form of every protocol record, against the JSON that CONTRACTS §2 and docs/MQTT.md show. */
class ProtocolJsonTest {
    private static final ObjectMapper PLAIN = new ObjectMapper();

    private static String json(Reply reply) {
        return new String(ProtocolJson.write(reply), StandardCharsets.UTF_8);
    }

    private static Reply roundTrip(Reply reply) throws IOException {
        return ProtocolJson.readReply(ProtocolJson.write(reply));
    }

    @Test
    void writesAResultAsTheContractShowsIt() throws IOException {
        Reply.Result result = new Reply.Result("r-42", "¿Dónde está la estación de tren?", "en", "es",
                "tinyllama-1.1b-chat-v1.0.Q4_0", "pi5-kitchen", new Reply.Tokens(61, 14),
                new Reply.Timing(3, 410, 720, 1133));
        assertEquals("""
                {"id":"r-42","status":"ok","translation":"¿Dónde está la estación de tren?","source":"en","target":"es",\
                "model":"tinyllama-1.1b-chat-v1.0.Q4_0","node":"pi5-kitchen","tokens":{"prompt":61,"generated":14},\
                "timing_ms":{"queue":3,"prefill":410,"decode":720,"total":1133}}""", json(result));
        assertEquals(result, roundTrip(result));
    }

    @Test
    void writesPartialsErrorsAndBusy() throws IOException {
        Reply.Partial partial = new Reply.Partial("r-42", 0, "¿Dónde");
        assertEquals("{\"id\":\"r-42\",\"status\":\"partial\",\"seq\":0,\"delta\":\"¿Dónde\"}", json(partial));
        assertEquals(partial, roundTrip(partial));

        Reply.Failure failure = new Reply.Failure("r-1", ErrorCode.UNSUPPORTED_LANGUAGE, "target language 'xx'");
        assertEquals("{\"id\":\"r-1\",\"status\":\"error\",\"error\":{\"code\":\"unsupported_language\","
                + "\"message\":\"target language 'xx'\"}}", json(failure));
        assertEquals(failure, roundTrip(failure));

        Reply.Busy busy = new Reply.Busy("r-2", "the queue is full; retry later", 1500);
        assertEquals("{\"id\":\"r-2\",\"status\":\"error\",\"error\":{\"code\":\"busy\",\"message\":"
                + "\"the queue is full; retry later\"},\"retry_after_ms\":1500}", json(busy));
        assertEquals(busy, roundTrip(busy));

        Reply.Failure anonymous = new Reply.Failure(null, ErrorCode.BAD_REQUEST, "payload is not JSON");
        assertTrue(PLAIN.readTree(json(anonymous)).get("id").isNull(), "a request without id is answered with id null");
        assertEquals(anonymous, roundTrip(anonymous));
        assertThrows(IllegalArgumentException.class, () -> new Reply.Failure("x", ErrorCode.BUSY, "use Busy"));
    }

    @Test
    void everyErrorCodeHasItsWireName() throws IOException {
        for (ErrorCode code : ErrorCode.values()) {
            assertEquals(code, ErrorCode.fromWireName(code.wireName()).orElseThrow());
            if (code != ErrorCode.BUSY) {
                Reply reply = roundTrip(new Reply.Failure("e", code, "m"));
                assertEquals(code, ((Reply.Failure) reply).code());
            }
        }
        assertEquals(List.of("bad_request", "too_long", "unsupported_language", "busy", "timeout", "cancelled",
                "internal"), java.util.Arrays.stream(ErrorCode.values()).map(ErrorCode::wireName).toList());
    }

    @Test
    void refusesWhatIsNotAReply() {
        for (String payload : List.of("[]", "not json", "{\"id\":\"a\"}", "{\"id\":\"a\",\"status\":\"maybe\"}",
                "{\"id\":\"a\",\"status\":\"ok\"}", "{\"id\":\"a\",\"status\":\"partial\",\"seq\":\"0\",\"delta\":\"x\"}",
                "{\"id\":\"a\",\"status\":\"error\",\"error\":{\"code\":\"gone\",\"message\":\"m\"}}",
                "{\"id\":\"a\",\"status\":\"partial\",\"seq\":0,\"delta\":\"x\"} {}")) {
            assertThrows(IOException.class, () -> ProtocolJson.readReply(payload.getBytes(StandardCharsets.UTF_8)),
                    payload);
        }
    }

    @Test
    void aClientsRequestReadsBackAsTheSameRequest() {
        RequestParser parser = new RequestParser(10_000, 1000, 256);
        Language de = Language.of("de").orElseThrow();
        Language en = Language.of("en").orElseThrow();
        for (Request request : List.of(new Request("r-1", "Good \"morning\"\n</s>", de, en, true, 64),
                new Request("r-2", "Hi", de, null, false, 256))) {
            RequestParser.Parsed parsed = parser.parse(ProtocolJson.write(request), null);
            assertEquals(request, parsed.request());
        }
        String written = new String(ProtocolJson.write(new Request(null, "Hi", de, null, false, 8)), StandardCharsets.UTF_8);
        assertEquals("{\"text\":\"Hi\",\"target\":\"de\",\"source\":\"auto\",\"stream\":false,\"max_tokens\":8}", written);
    }

    @Test
    void readsTheIdACancelNames() throws IOException {
        assertEquals("c-1", ProtocolJson.readCancel("{\"id\":\"c-1\"}".getBytes(StandardCharsets.UTF_8)).orElseThrow());
        assertTrue(ProtocolJson.readCancel("{\"id\":7}".getBytes(StandardCharsets.UTF_8)).isEmpty());
        assertThrows(IOException.class, () -> ProtocolJson.readCancel("nope".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void writesTheStatusWithEveryContractField() throws IOException {
        JsonNode online = PLAIN.readTree(ProtocolJson.write(new NodeStatus("online", null, "pi5", "m", "cpu", "generic",
                2, 1, 1, 10, 1, 0, 3, 12.345, 60, null)));
        for (String field : List.of("state", "node", "model", "backend", "profile", "queue_depth", "served", "errors",
                "decode_tok_s", "uptime_s", "temperature_c", "parallel", "active", "unroutable", "dropped_qos0")) {
            assertTrue(online.has(field), field);
        }
        assertEquals(3, online.get("dropped_qos0").asLong());
        assertFalse(online.has("error"), "only a node in state error says why");
        assertTrue(online.get("temperature_c").isNull());
        assertEquals(12.3, online.get("decode_tok_s").asDouble());

        JsonNode failed = PLAIN.readTree(ProtocolJson.write(new NodeStatus("error", "model.gguf: bad magic", "pi5", null,
                null, "generic", 0, 1, 0, 0, 0, 0, 0, 0, 1, 61.5)));
        assertEquals("model.gguf: bad magic", failed.get("error").asText());
        assertEquals(61.5, failed.get("temperature_c").asDouble());
    }
}
