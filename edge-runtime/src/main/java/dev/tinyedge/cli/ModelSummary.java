package dev.tinyedge.cli;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufValueType;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.tensor.GgmlType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * What {@code tinyedge inspect} reports about a GGUF model, read from its header alone (no tensor data is
 * touched). Serialized as is for {@code --json}, with snake_case names.
 *
 * @param hyperParameters the architecture's own keys ({@code llama.context_length} ...) without the prefix
 * @param features        what the model's block has, as tinyedge runs it (heads, RoPE, norms, activation, sliding
 *                        window, tied output); empty when tinyedge cannot run it
 * @param unsupported     why tinyedge cannot run the model, or null
 * @param tensorTypes     tensor count, parameters and bytes per ggml type, most tensors first
 */
record ModelSummary(String file, long fileSize, int ggufVersion, long alignment, String architecture, String name,
                    Map<String, Object> hyperParameters, List<String> features, String unsupported, long parameters,
                    int tensorCount, Map<String, TypeStats> tensorTypes, Tokenizer tokenizer) {

    record TypeStats(int tensors, long parameters, long bytes) {
    }

    /** {@code vocabSize}, the token ids and {@code chatTemplateBytes} are null where the file has none. */
    record Tokenizer(String model, Integer vocabSize, Long bosTokenId, Long eosTokenId, boolean chatTemplate,
                     Integer chatTemplateBytes) {
    }

    static ModelSummary of(GgufFile gguf) throws GgufFormatException {
        String architecture = gguf.getString("general.architecture", null);
        Map<String, Object> hyperParameters = new TreeMap<>();
        if (architecture != null) {
            String prefix = architecture + ".";
            gguf.metadata().forEach((key, value) -> {
                if (key.startsWith(prefix)) {
                    hyperParameters.put(key.substring(prefix.length()), value.value());
                }
            });
        }

        Map<GgmlType, TypeStats> byType = new LinkedHashMap<>();
        long parameters = 0;
        for (GgufTensorInfo t : gguf.tensors()) {
            parameters += t.elementCount();
            byType.merge(t.type(), new TypeStats(1, t.elementCount(), t.byteSize()),
                    (a, b) -> new TypeStats(a.tensors + b.tensors, a.parameters + b.parameters, a.bytes + b.bytes));
        }
        Map<String, TypeStats> tensorTypes = new LinkedHashMap<>();
        byType.entrySet().stream()
                .sorted(Comparator.comparingInt((Map.Entry<GgmlType, TypeStats> e) -> -e.getValue().tensors)
                        .thenComparing(Map.Entry::getKey))
                .forEach(e -> tensorTypes.put(e.getKey().name(), e.getValue()));

        GgufValue tokens = gguf.get("tokenizer.ggml.tokens");
        String template = gguf.getString("tokenizer.chat_template", null);
        Tokenizer tokenizer = new Tokenizer(
                gguf.getString("tokenizer.ggml.model", null),
                tokens != null && tokens.type() == GgufValueType.ARRAY ? tokens.length() : null,
                optionalLong(gguf, "tokenizer.ggml.bos_token_id"),
                optionalLong(gguf, "tokenizer.ggml.eos_token_id"),
                template != null,
                template == null ? null : template.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);

        List<String> features = List.of();
        String unsupported = null;
        try {
            features = features(ModelConfig.fromGguf(gguf), gguf.tensor(ModelWeights.OUTPUT) == null);
        } catch (GgufFormatException e) {
            unsupported = e.getMessage();
        }
        return new ModelSummary(gguf.path().toString(), gguf.fileSize(), gguf.version(), gguf.alignment(),
                architecture, gguf.getString("general.name", null), hyperParameters, features, unsupported, parameters,
                gguf.tensors().size(), tensorTypes, tokenizer);
    }

    /** "16 heads of 128 over 8 KV heads", the block's features, the sliding window, the output head. */
    static List<String> features(ModelConfig c, boolean tiedOutput) {
        List<String> features = new ArrayList<>();
        features.add(c.heads() + " heads of " + c.headDim() + " over " + c.kvHeads() + " KV head" + (c.kvHeads() == 1 ? "" : "s"));
        features.addAll(c.features().names());
        if (c.ropeScale() != 1) {
            features.add("linear RoPE scaling x" + 1 / c.ropeScale());
        }
        long local = IntStream.range(0, c.layers()).filter(c::isLocal).count();
        if (local > 0) {
            features.add("sliding window of " + c.window().size() + " on " + local + " of " + c.layers()
                    + " layers (RoPE base " + c.window().ropeBase() + ")");
        }
        features.add(tiedOutput ? "output tied to the embedding" : "own output head");
        return features;
    }

    private static Long optionalLong(GgufFile gguf, String key) throws GgufFormatException {
        return gguf.get(key) == null ? null : gguf.getLong(key, 0);
    }
}
