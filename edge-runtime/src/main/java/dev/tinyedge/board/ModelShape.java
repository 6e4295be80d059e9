package dev.tinyedge.board;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.tensor.GgmlType;

import java.util.EnumMap;
import java.util.Map;

/**
 * The numbers of a model that decide its memory: hyper-parameters from the GGUF metadata and the bytes
 * and elements of its tensors. Taken from {@link GgufFile} (no tensor data is read), or written out by
 * hand for a model that is not on disk.
 *
 * @param weightBytes    sum of the tensors' bytes, all of which a forward pass touches
 * @param weightElements sum of the tensors' elements, to estimate other quantization types
 * @param mainType       the type holding most of the bytes, e.g. Q4_0
 */
public record ModelShape(String name, int layers, int embeddingLength, int feedForwardLength, int heads,
                         int kvHeads, int vocabSize, int trainedContextLength, long weightBytes,
                         long weightElements, GgmlType mainType) {

    public int headDim() {
        return embeddingLength / heads;
    }

    public static ModelShape of(GgufFile file) throws GgufFormatException {
        String arch = file.getString("general.architecture", "llama");
        int heads = (int) file.getLong(arch + ".attention.head_count", 0);
        GgufTensorInfo embeddings = file.tensor("token_embd.weight");
        if (heads <= 0 || embeddings == null || embeddings.shape().length != 2) {
            throw new GgufFormatException("not a Llama-style model (no " + arch
                    + ".attention.head_count or token_embd.weight matrix)", 0);
        }
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
        return new ModelShape(
                file.getString("general.name", fileName.replaceFirst("\\.gguf$", "")),
                (int) file.getLong(arch + ".block_count", 0),
                (int) file.getLong(arch + ".embedding_length", embeddings.shape()[0]),
                (int) file.getLong(arch + ".feed_forward_length", 0),
                heads,
                (int) file.getLong(arch + ".attention.head_count_kv", heads),
                (int) embeddings.shape()[1],
                (int) file.getLong(arch + ".context_length", 2048),
                bytes, elements, main);
    }
}
