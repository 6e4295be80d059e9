package dev.tinyedge.service;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tinyedge.translate.Language;

import java.io.IOException;
import java.util.Optional;

/**
 * The JSON of protocol v1 (CONTRACTS §2), in one place: requests, replies, cancels and the node status, written
 * and read with one Jackson mapper. The rest of the program sees only the records ({@link Request},
 * {@link Reply}, {@link NodeStatus}); JSON trees stay inside this class and the request parser.
 */
public final class ProtocolJson {
    /** Trailing text after the document is an error, not ignored. */
    static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private ProtocolJson() {
    }

    public static byte[] write(Reply reply) {
        return bytes(tree(reply));
    }

    /** The reply as a JSON object, fields in the order the protocol documents them. */
    public static ObjectNode tree(Reply reply) {
        ObjectNode json = MAPPER.createObjectNode();
        json.put("id", reply.id());
        switch (reply) {
            case Reply.Result result -> {
                json.put("status", "ok");
                json.put("translation", result.translation());
                json.put("source", result.source());
                json.put("target", result.target());
                json.put("model", result.model());
                json.put("node", result.node());
                ObjectNode tokens = json.putObject("tokens");
                tokens.put("prompt", result.tokens().prompt());
                tokens.put("generated", result.tokens().generated());
                ObjectNode timing = json.putObject("timing_ms");
                timing.put("queue", result.timing().queue());
                timing.put("prefill", result.timing().prefill());
                timing.put("decode", result.timing().decode());
                timing.put("total", result.timing().total());
            }
            case Reply.Partial partial -> {
                json.put("status", "partial");
                json.put("seq", partial.seq());
                json.put("delta", partial.delta());
            }
            case Reply.Failure failure -> putError(json, failure.code(), failure.message());
            case Reply.Busy busy -> {
                putError(json, ErrorCode.BUSY, busy.message());
                json.put("retry_after_ms", busy.retryAfterMs());
            }
        }
        return json;
    }

    private static void putError(ObjectNode json, ErrorCode code, String message) {
        json.put("status", "error");
        ObjectNode error = json.putObject("error");
        error.put("code", code.wireName());
        error.put("message", message);
    }

    /**
     * Reads a reply.
     *
     * @throws IOException when the payload is not a protocol v1 reply
     */
    public static Reply readReply(byte[] payload) throws IOException {
        JsonNode json = MAPPER.readTree(payload);
        if (json == null || !json.isObject()) {
            throw new IOException("a reply must be a JSON object");
        }
        String id = json.path("id").isTextual() ? json.get("id").textValue() : null;
        String status = text(json, "status");
        return switch (status) {
            case "ok" -> new Reply.Result(id, text(json, "translation"), text(json, "source"), text(json, "target"),
                    text(json, "model"), text(json, "node"),
                    new Reply.Tokens(number(json, "tokens", "prompt"), number(json, "tokens", "generated")),
                    new Reply.Timing(number(json, "timing_ms", "queue"), number(json, "timing_ms", "prefill"),
                            number(json, "timing_ms", "decode"), number(json, "timing_ms", "total")));
            case "partial" -> new Reply.Partial(id, number(json, "seq"), text(json, "delta"));
            case "error" -> {
                JsonNode error = json.path("error");
                String code = text(error, "code");
                String message = text(error, "message");
                if (code.equals(ErrorCode.BUSY.wireName())) {
                    yield new Reply.Busy(id, message, json.path("retry_after_ms").asLong(1000));
                }
                yield new Reply.Failure(id, ErrorCode.fromWireName(code)
                        .orElseThrow(() -> new IOException("unknown error code '" + code + "'")), message);
            }
            default -> throw new IOException("unknown reply status '" + status + "'");
        };
    }

    /** A request as a client sends it; the source is {@code auto} when the request names none. */
    public static byte[] write(Request request) {
        ObjectNode json = MAPPER.createObjectNode();
        if (request.id() != null) {
            json.put("id", request.id());
        }
        json.put("text", request.text());
        json.put("target", request.target().code());
        json.put("source", request.source() == null ? Language.AUTO : request.source().code());
        json.put("stream", request.stream());
        json.put("max_tokens", request.maxTokens());
        return bytes(json);
    }

    /** A payload as a tree, for the request parser, which reports every field's problem on its own. */
    static JsonNode readTree(String json) throws JacksonException {
        return MAPPER.readTree(json);
    }

    /**
     * The id a cancel names ({@code {"id":"..."}}), or empty when it names none.
     *
     * @throws IOException when the payload is not JSON
     */
    static Optional<String> readCancel(byte[] payload) throws IOException {
        JsonNode id = MAPPER.readTree(payload).path("id");
        return id.isTextual() ? Optional.of(id.textValue()) : Optional.empty();
    }

    static byte[] write(NodeStatus status) {
        ObjectNode json = MAPPER.createObjectNode();
        json.put("state", status.state());
        if (status.error() != null) {
            json.put("error", status.error());
        }
        json.put("node", status.node());
        json.put("model", status.model());
        json.put("backend", status.backend());
        json.put("profile", status.profile());
        json.put("queue_depth", status.queueDepth());
        json.put("parallel", status.parallel());
        json.put("active", status.active());
        json.put("served", status.served());
        json.put("errors", status.errors());
        json.put("unroutable", status.unroutable());
        json.put("dropped_qos0", status.droppedQos0());
        json.put("decode_tok_s", Math.round(status.decodeTokensPerSecond() * 10) / 10.0);
        json.put("uptime_s", status.uptimeS());
        json.put("temperature_c", status.temperatureC());
        return bytes(json);
    }

    private static String text(JsonNode json, String field) throws IOException {
        JsonNode value = json.get(field);
        if (value == null || !value.isTextual()) {
            throw new IOException("the reply's " + field + " is missing or not a string");
        }
        return value.textValue();
    }

    private static int number(JsonNode json, String field) throws IOException {
        JsonNode value = json.get(field);
        if (value == null || !value.canConvertToInt()) {
            throw new IOException("the reply's " + field + " is missing or not a number");
        }
        return value.intValue();
    }

    private static int number(JsonNode json, String object, String field) throws IOException {
        return number(json.path(object), field);
    }

    private static byte[] bytes(JsonNode json) {
        try {
            return MAPPER.writeValueAsBytes(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree could not be written: " + e.getMessage(), e);
        }
    }
}
