package dev.tinyedge.service;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tinyedge.translate.Language;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Turns a request payload into a {@link Request}, or into the error code it must be answered with. The id and
 * {@code reply_to} are recovered even from a request that is otherwise malformed, so that it can still be answered.
 */
public final class RequestParser {
    public static final int MAX_ID_LENGTH = 128;

    private final int maxPayloadBytes;
    private final int maxInputChars;
    private final int maxTokens;

    public RequestParser(int maxPayloadBytes, int maxInputChars, int maxTokens) {
        this.maxPayloadBytes = maxPayloadBytes;
        this.maxInputChars = maxInputChars;
        this.maxTokens = maxTokens;
    }

    /**
     * What a payload says: the request, or the error to answer with.
     *
     * @param id      the request's id as far as it could be read (see {@link Request#id()})
     * @param replyTo the payload's {@code reply_to} topic when it names a valid one
     */
    public record Parsed(String id, String replyTo, Request request, RequestException error) {
        static Parsed failed(String id, String replyTo, ErrorCode code, String message) {
            return new Parsed(id, replyTo, null, new RequestException(code, message));
        }
    }

    public Parsed parse(byte[] payload, byte[] correlationData) {
        String fallbackId = correlationData == null || correlationData.length == 0
                ? null : HexFormat.of().formatHex(correlationData);
        if (payload.length > maxPayloadBytes) {
            return Parsed.failed(fallbackId, null, ErrorCode.TOO_LONG,
                    "payload is " + payload.length + " bytes, at most " + maxPayloadBytes + " are accepted");
        }
        JsonNode root;
        try {
            String json = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(payload)).toString();
            root = ProtocolJson.readTree(json);
        } catch (CharacterCodingException e) {
            return Parsed.failed(fallbackId, null, ErrorCode.BAD_REQUEST, "payload is not valid UTF-8");
        } catch (JacksonException e) {
            return Parsed.failed(fallbackId, null, ErrorCode.BAD_REQUEST,
                    "payload is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            return Parsed.failed(fallbackId, null, ErrorCode.BAD_REQUEST, "payload must be a JSON object");
        }

        JsonNode replyToNode = root.get("reply_to");
        String replyTo = replyToNode != null && replyToNode.isTextual() && isTopicName(replyToNode.textValue())
                ? replyToNode.textValue() : null;

        JsonNode idNode = root.get("id");
        String id = fallbackId;
        if (idNode != null && !idNode.isNull()) {
            if (!idNode.isTextual() || !isValidId(idNode.textValue())) {
                return Parsed.failed(fallbackId, replyTo, ErrorCode.BAD_REQUEST,
                        "id must be a string of 1 to " + MAX_ID_LENGTH + " printable characters");
            }
            id = idNode.textValue();
        }
        if (replyToNode != null && !replyToNode.isNull() && replyTo == null) {
            return Parsed.failed(id, null, ErrorCode.BAD_REQUEST, "reply_to must be a topic name without wildcards");
        }
        try {
            return new Parsed(id, replyTo, request(id, root), null);
        } catch (RequestException e) {
            return new Parsed(id, replyTo, null, e);
        }
    }

    private Request request(String id, JsonNode root) throws RequestException {
        String text = requiredString(root, "text");
        if (text.isBlank()) {
            throw new RequestException(ErrorCode.BAD_REQUEST, "text is empty");
        }
        int chars = text.codePointCount(0, text.length());
        if (chars > maxInputChars) {
            throw new RequestException(ErrorCode.TOO_LONG,
                    "text has " + chars + " characters, at most " + maxInputChars + " are accepted");
        }
        Language target = language(requiredString(root, "target"), "target");
        String sourceCode = optionalString(root, "source");
        Language source = sourceCode == null || sourceCode.equalsIgnoreCase(Language.AUTO)
                ? null : language(sourceCode, "source");

        boolean stream = false;
        JsonNode streamNode = root.get("stream");
        if (streamNode != null && !streamNode.isNull()) {
            if (!streamNode.isBoolean()) {
                throw new RequestException(ErrorCode.BAD_REQUEST, "stream must be true or false");
            }
            stream = streamNode.booleanValue();
        }
        int tokens = maxTokens;
        JsonNode maxTokensNode = root.get("max_tokens");
        if (maxTokensNode != null && !maxTokensNode.isNull()) {
            if (!maxTokensNode.isIntegralNumber() || maxTokensNode.asLong() < 1) {
                throw new RequestException(ErrorCode.BAD_REQUEST, "max_tokens must be a positive integer");
            }
            tokens = (int) Math.min(maxTokens, maxTokensNode.asLong());
        }
        return new Request(id, text, target, source, stream, tokens);
    }

    private static Language language(String code, String field) throws RequestException {
        return Language.of(code).orElseThrow(() -> new RequestException(ErrorCode.UNSUPPORTED_LANGUAGE,
                field + " language '" + code + "' is not supported; use an ISO 639-1 code, one of "
                        + String.join(", ", Language.codes())));
    }

    private static String requiredString(JsonNode root, String field) throws RequestException {
        String value = optionalString(root, field);
        if (value == null) {
            throw new RequestException(ErrorCode.BAD_REQUEST, field + " is missing");
        }
        return value;
    }

    private static String optionalString(JsonNode root, String field) throws RequestException {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw new RequestException(ErrorCode.BAD_REQUEST, field + " must be a string");
        }
        return node.textValue();
    }

    static boolean isValidId(String id) {
        return !id.isEmpty() && id.length() <= MAX_ID_LENGTH
                && id.codePoints().noneMatch(c -> Character.isISOControl(c) || Character.isWhitespace(c) && c != ' ');
    }

    /** An MQTT topic name a reply can be published to: non-empty, no wildcards, no NUL. */
    public static boolean isTopicName(String topic) {
        return !topic.isEmpty() && topic.indexOf('+') < 0 && topic.indexOf('#') < 0 && topic.indexOf('\0') < 0
                && topic.getBytes(StandardCharsets.UTF_8).length <= 65535;
    }
}
