package dev.tinyedge.quantize;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.stream.IntStream;

/**
 * Writes a GGUF model in another {@link QuantMix}: metadata copied (general.file_type updated), each tensor
 * either copied as it is or decoded row by row and re-encoded with ggml's reference quantizers. The input
 * is read in place from its mapping and the output written one tensor at a time, so the model never sits
 * on the heap; rows of a tensor are quantized in parallel.
 */
public final class Requantizer {
    /** ggml's GGML_QNT_VERSION, which llama.cpp's quantize stores with every file it writes. */
    private static final int QUANTIZATION_VERSION = 2;
    private static final int ROWS_PER_TASK = 16;

    /** Told how many elements of how many are done, and which tensor is being written; called from several threads. */
    @FunctionalInterface
    public interface Progress {
        void update(long doneElements, long totalElements, String tensor);
    }

    /** One tensor's fate: written as {@code to} (a copy when it equals the input's type). */
    public record Plan(GgufTensorInfo tensor, GgmlType to) {
        public boolean converts() {
            return to != tensor.type();
        }
    }

    private Requantizer() {
    }

    /**
     * The type every tensor of {@code in} gets. Fails, before anything is written, on a tensor that must
     * be converted from a type tinyedge cannot read, naming it.
     */
    public static List<Plan> plan(GgufFile in, QuantMix mix, boolean pure) throws GgufFormatException {
        String architecture = in.getString("general.architecture", "llama");
        int layers = Math.toIntExact(in.getLong(architecture + ".block_count", 0));
        boolean tiedOutput = in.tensor("output.weight") == null;
        List<Plan> plans = new ArrayList<>();
        for (GgufTensorInfo t : in.tensors()) {
            GgmlType to = mix.typeFor(t.name(), t.shape(), t.type(), layers, tiedOutput, pure);
            if (to != t.type() && !FloatTensor.isSupported(t.type())) {
                throw new GgufFormatException("tensor '" + t.name() + "' has type " + t.type()
                        + ", which tinyedge cannot read (it reads " + FloatTensor.supportedTypes() + ")");
            }
            plans.add(new Plan(t, to));
        }
        return plans;
    }

    /** Writes {@code in} as {@code mix} to {@code out} (atomically: the file appears when complete). */
    public static void write(GgufFile in, List<Plan> plans, QuantMix mix, Path out, Progress progress) throws IOException {
        GgufWriter writer = new GgufWriter(Math.toIntExact(in.alignment()));
        in.metadata().forEach(writer::put);
        writer.put("general.quantization_version", GgufValue.u32(QUANTIZATION_VERSION));
        writer.put("general.file_type", GgufValue.u32(mix.fileType));
        long total = plans.stream().mapToLong(p -> p.tensor().elementCount()).sum();
        AtomicLong done = new AtomicLong();
        for (Plan plan : plans) {
            GgufTensorInfo t = plan.tensor();
            LongConsumer advance = elements -> progress.update(done.addAndGet(elements), total, t.name());
            writer.addTensor(t.name(), plan.to(), t.shape(), buffer -> {
                if (plan.converts()) {
                    convert(FloatTensor.of(t.type(), in.data(t), t.elementCount()), (int) t.shape()[0], plan.to(), buffer, advance);
                } else {
                    buffer.put(in.data(t).asByteBuffer());
                    advance.accept(t.elementCount());
                }
            });
        }
        writer.write(out);
    }

    /**
     * Decodes each row of {@code source} and encodes it as {@code to} into {@code out}, rows in parallel;
     * {@code advance} hears of each finished group of rows (as a number of elements).
     */
    private static void convert(FloatTensor source, int rowLength, GgmlType to, ByteBuffer out, LongConsumer advance) {
        int rows = Math.toIntExact(source.size() / rowLength);
        int rowBytes = Math.toIntExact(to.byteSize(rowLength));
        int start = out.position();
        IntStream.range(0, (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK).parallel().forEach(task -> {
            int first = task * ROWS_PER_TASK;
            int last = Math.min(rows, first + ROWS_PER_TASK);
            ByteBuffer slice = out.slice(start + first * rowBytes, (last - first) * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
            float[] row = new float[rowLength];
            for (int r = first; r < last; r++) {
                source.dequantize((long) r * rowLength, row, 0, rowLength);
                FloatTensor.encode(to, row, 0, rowLength, slice);
            }
            advance.accept((long) (last - first) * rowLength);
        });
        out.position(start + rows * rowBytes);
    }
}
