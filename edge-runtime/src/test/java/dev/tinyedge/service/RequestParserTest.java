package dev.tinyedge.service;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RequestParserTest {
    private final RequestParser parser = new RequestParser(1000, 50, 256);

    private RequestParser.Parsed parse(String json) {
        return parser.parse(json.getBytes(StandardCharsets.UTF_8), null);
    }

    private static void assertError(ErrorCode expected, RequestParser.Parsed parsed) {
        assertNull(parsed.request(), "no request from a bad payload");
        assertEquals(expected, parsed.error().code(), parsed.error().getMessage());
    }

    @Test
    void readsAFullRequest() {
        RequestParser.Parsed parsed = parse("""
                {"id":"r-42","text":"Where is the train station?","target":"ES","source":"en","stream":true,
                 "max_tokens":64,"reply_to":"app/7/replies","unknown":[1,2]}""");
        assertNull(parsed.error());
        Request request = parsed.request();
        assertEquals("r-42", request.id());
        assertEquals("Where is the train station?", request.text());
        assertEquals("es", request.target().code());
        assertEquals("English", request.source().name());
        assertTrue(request.stream());
        assertEquals(64, request.maxTokens());
        assertEquals("app/7/replies", parsed.replyTo());
    }

    @Test
    void defaultsSourceToAutoAndIdToTheCorrelationData() {
        RequestParser.Parsed parsed = parser.parse("{\"text\":\"hi\",\"target\":\"de\",\"source\":\"auto\"}"
                .getBytes(StandardCharsets.UTF_8), new byte[]{0x0a, (byte) 0xff});
        assertNull(parsed.request().source());
        assertEquals("0aff", parsed.request().id());
        assertFalse(parsed.request().stream());
        assertEquals(256, parsed.request().maxTokens());
    }

    @Test
    void capsMaxTokens() {
        assertEquals(256, parse("{\"text\":\"hi\",\"target\":\"de\",\"max_tokens\":100000}").request().maxTokens());
    }

    @Test
    void rejectsMalformedPayloads() {
        assertError(ErrorCode.BAD_REQUEST, parse("not json"));
        assertError(ErrorCode.BAD_REQUEST, parse("[1,2]"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"text\":\"hi\",\"target\":\"de\"} trailing"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"target\":\"de\"}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"text\":\"\",\"target\":\"de\"}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"text\":\"  \",\"target\":\"de\"}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"text\":5,\"target\":\"de\"}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"text\":\"hi\",\"target\":[\"de\"]}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"text\":\"hi\"}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"text\":\"hi\",\"target\":\"de\",\"stream\":\"yes\"}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"text\":\"hi\",\"target\":\"de\",\"max_tokens\":0}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"text\":\"hi\",\"target\":\"de\",\"max_tokens\":1.5}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"id\":7,\"text\":\"hi\",\"target\":\"de\"}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"id\":\"\",\"text\":\"hi\",\"target\":\"de\"}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"id\":\"a\\nb\",\"text\":\"hi\",\"target\":\"de\"}"));
        assertError(ErrorCode.BAD_REQUEST, parse("{\"id\":\"" + "x".repeat(129) + "\",\"text\":\"hi\",\"target\":\"de\"}"));
    }

    @Test
    void acceptsAnIdOfTheMaximumLength() {
        String id = "x".repeat(RequestParser.MAX_ID_LENGTH);
        assertEquals(id, parse("{\"id\":\"" + id + "\",\"text\":\"hi\",\"target\":\"de\"}").request().id());
    }

    @Test
    void rejectsInvalidUtf8() {
        byte[] payload = "{\"text\":\"caf\u00e9\",\"target\":\"de\"}".getBytes(StandardCharsets.UTF_8);
        byte[] broken = new byte[payload.length - 1];
        // drop the second byte of the two-byte é: a lone lead byte
        int at = new String(payload, StandardCharsets.ISO_8859_1).indexOf('\u00c3');
        System.arraycopy(payload, 0, broken, 0, at + 1);
        System.arraycopy(payload, at + 2, broken, at + 1, payload.length - at - 2);
        assertError(ErrorCode.BAD_REQUEST, parser.parse(broken, null));
    }

    @Test
    void rejectsTooLongTextAndPayloads() {
        assertError(ErrorCode.TOO_LONG, parse("{\"text\":\"" + "a".repeat(51) + "\",\"target\":\"de\"}"));
        // 50 characters outside the BMP are 100 UTF-16 units but 50 characters: accepted
        assertNull(parse("{\"text\":\"" + "\uD83D\uDE00".repeat(50) + "\",\"target\":\"de\"}").error());
        assertError(ErrorCode.TOO_LONG, parse("{\"text\":\"hi\",\"target\":\"de\",\"pad\":\"" + "p".repeat(1000) + "\"}"));
    }

    @Test
    void rejectsUnknownLanguages() {
        assertError(ErrorCode.UNSUPPORTED_LANGUAGE, parse("{\"text\":\"hi\",\"target\":\"xx\"}"));
        assertError(ErrorCode.UNSUPPORTED_LANGUAGE, parse("{\"text\":\"hi\",\"target\":\"de\",\"source\":\"klingon\"}"));
    }

    @Test
    void keepsIdAndReplyToOfABadRequestSoItCanBeAnswered() {
        RequestParser.Parsed parsed = parse("{\"id\":\"r-1\",\"reply_to\":\"a/b\",\"target\":\"de\"}");
        assertEquals("r-1", parsed.id());
        assertEquals("a/b", parsed.replyTo());
        assertEquals(ErrorCode.BAD_REQUEST, parsed.error().code());
    }

    @Test
    void refusesWildcardReplyTopics() {
        RequestParser.Parsed parsed = parse("{\"text\":\"hi\",\"target\":\"de\",\"reply_to\":\"a/#\"}");
        assertNull(parsed.replyTo());
        assertEquals(ErrorCode.BAD_REQUEST, parsed.error().code());
    }
}
