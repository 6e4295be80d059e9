package dev.tinyedge.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tinyedge.service.ErrorCode;
import dev.tinyedge.service.ProtocolJson;
import dev.tinyedge.service.Reply;
import dev.tinyedge.service.Request;
import dev.tinyedge.service.RequestParser;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Any payload a device can publish on the request topic: the parser answers it with a request or with one of
 * the protocol's error codes, never with an exception, and what it accepts keeps every limit.
 */
class RequestParserFuzzTest {
    private static final int MAX_PAYLOAD_BYTES = 4096;
    private static final int MAX_INPUT_CHARS = 200;
    private static final int MAX_TOKENS = 64;
    private static final Set<ErrorCode> PARSER_CODES =
            Set.of(ErrorCode.BAD_REQUEST, ErrorCode.TOO_LONG, ErrorCode.UNSUPPORTED_LANGUAGE);

    private final RequestParser parser = new RequestParser(MAX_PAYLOAD_BYTES, MAX_INPUT_CHARS, MAX_TOKENS);

    @FuzzTest(maxDuration = FuzzDuration.DEFAULT)
    @DictionaryEntries({"\"id\"", "\"text\"", "\"target\"", "\"source\"", "\"stream\"", "\"max_tokens\"",
            "\"reply_to\"", "\"es\"", "\"auto\"", "true", "null", "\\u0000", "\\ud800", "1e99", "-0"})
    void answersEveryPayload(byte[] payload) throws Exception {
        check(payload, null);
        check(payload, new byte[]{(byte) 0xff, 0x00, 0x2a});
    }

    private void check(byte[] payload, byte[] correlation) throws Exception {
        RequestParser.Parsed parsed = parser.parse(payload, correlation);
        assertTrue(parsed.request() == null ^ parsed.error() == null, "a request or an error, not both");
        if (parsed.replyTo() != null) {
            assertTrue(RequestParser.isTopicName(parsed.replyTo()), parsed.replyTo());
        }
        if (payload.length > MAX_PAYLOAD_BYTES) {
            assertEquals(ErrorCode.TOO_LONG, parsed.error().code());
        }
        if (parsed.error() != null) {
            assertTrue(PARSER_CODES.contains(parsed.error().code()), parsed.error().code().toString());
            assertNotNull(parsed.error().getMessage());
            // the daemon must be able to publish the error reply, whatever its message quotes from the payload, and
            // a client must read back what it was sent
            Reply.Failure failure = new Reply.Failure(parsed.id(), parsed.error().code(), parsed.error().getMessage());
            assertEquals(failure, ProtocolJson.readReply(ProtocolJson.write(failure)));
            return;
        }
        Request request = parsed.request();
        assertTrue(!request.text().isBlank(), "empty text accepted");
        assertTrue(request.text().codePointCount(0, request.text().length()) <= MAX_INPUT_CHARS, "text too long");
        assertTrue(request.maxTokens() >= 1 && request.maxTokens() <= MAX_TOKENS, "max_tokens " + request.maxTokens());
        assertNotNull(request.target());
        if (request.id() != null) {
            assertTrue(!request.id().isEmpty() && request.id().length() <= RequestParser.MAX_ID_LENGTH, request.id());
        }
        assertEquals(request, parser.parse(ProtocolJson.write(request), correlation).request(),
                "the request as a client writes it reads back the same");
    }
}
