package dev.tinyedge.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tinyedge.translate.Translation;

/** The JSON replies of protocol v1. */
public final class Replies {
    public static final ObjectMapper JSON = new ObjectMapper();

    private Replies() {
    }

    public static ObjectNode result(Request request, Translation translation, String model, String node,
                                    long queueMs, long totalMs) {
        ObjectNode reply = JSON.createObjectNode();
        reply.put("id", request.id());
        reply.put("status", "ok");
        reply.put("translation", translation.text());
        reply.put("source", request.source() == null ? "auto" : request.source().code());
        reply.put("target", request.target().code());
        reply.put("model", model);
        reply.put("node", node);
        ObjectNode tokens = reply.putObject("tokens");
        tokens.put("prompt", translation.promptTokens());
        tokens.put("generated", translation.generatedTokens());
        ObjectNode timing = reply.putObject("timing_ms");
        timing.put("queue", queueMs);
        timing.put("prefill", translation.prefillMs());
        timing.put("decode", translation.decodeMs());
        timing.put("total", totalMs);
        return reply;
    }

    public static ObjectNode partial(String id, int seq, String delta) {
        ObjectNode reply = JSON.createObjectNode();
        reply.put("id", id);
        reply.put("status", "partial");
        reply.put("seq", seq);
        reply.put("delta", delta);
        return reply;
    }

    public static ObjectNode error(String id, ErrorCode code, String message) {
        ObjectNode reply = JSON.createObjectNode();
        reply.put("id", id);
        reply.put("status", "error");
        ObjectNode error = reply.putObject("error");
        error.put("code", code.wireName());
        error.put("message", message);
        return reply;
    }

    public static ObjectNode busy(String id, long retryAfterMs) {
        ObjectNode reply = error(id, ErrorCode.BUSY, "the queue is full; retry later");
        reply.put("retry_after_ms", retryAfterMs);
        return reply;
    }
}
