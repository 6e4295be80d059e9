package dev.tinyedge.board;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.tensor.GgmlType;

import java.util.EnumMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The numbers of a model that decide its memory: hyper-parameters as the model's configuration reads them from
 * the GGUF metadata ({@link ModelConfig#fromGguf}) and the bytes and elements of its tensors. Taken from
 * {@link GgufFile} (no tensor data is read), or written out by hand for a model that is not on disk.
 *
 * @param headDim        the key and value length of a head (Qwen3 and Gemma 3: not embeddingLength / heads)
 * @param weightBytes    sum of the tensors' bytes, all of which a forward pass touches (a tied output head is
 *                       the token embedding, counted once)
 * @param weightElements sum of the tensors' elements, to estimate other quantization types
 * @param mainType       the type holding most of the bytes, e.g. Q4_0
 * @param localLayers    layers with sliding-window attention, which cache only the window's positions
 * @param slidingWindow  their window, in positions (0 for none)
 */
public record ModelShape(String name, int layers, int embeddingLength, int feedForwardLength, int heads,
                         int kvHeads, int headDim, int vocabSize, int trainedContextLength, long weightBytes,
                         long weightElements, GgmlType mainType, int localLayers, int slidingWindow) {

    /** A Llama-2-shaped model: heads of embeddingLength / heads, every layer attending to the whole context. */
    public ModelShape(String name, int layers, int embeddingLength, int feedForwardLength, int heads, int kvHeads,
                      int vocabSize, int trainedContextLength, long weightBytes, long weightElements, GgmlType mainType) {
        this(name, layers, embeddingLength, feedForwardLength, heads, kvHeads, embeddingLength / heads, vocabSize,
                trainedContextLength, weightBytes, weightElements, mainType, 0, 0);
    }

    /** The same model with other weights (another quantization type). */
    public ModelShape withWeights(long bytes, GgmlType type) {
        return new ModelShape(name, layers, embeddingLength, feedForwardLength, heads, kvHeads, headDim, vocabSize,
                trainedContextLength, bytes, weightElements, type, localLayers, slidingWindow);
    }

    public static ModelShape of(GgufFile file) throws GgufFormatException {
        ModelConfig c = ModelConfig.fromGguf(file);
        long bytes = 0;
        long elements = 0;
        Map<GgmlType, Long> bytesByType = new EnumMap<>(GgmlType.class);
        for (GgufTensorInfo t : file.tensors()) {
            bytes += t.byteSize();
            elements += t.elementCount();
            bytesByType.merge(t.type(), t.byteSize(), Long::sum);
        }
        GgmlType main = bytesByType.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        String fileName = file.path().getFileName().toString();
        int localLayers = (int) IntStream.range(0, c.layers()).filter(c::isLocal).count();
        return new ModelShape(file.getString("general.name", fileName.replaceFirst("\\.gguf$", "")), c.layers(),
                c.dim(), c.ffnDim(), c.heads(), c.kvHeads(), c.headDim(), c.vocabSize(), c.contextLength(), bytes,
                elements, main, localLayers, c.window().size());
    }
}
