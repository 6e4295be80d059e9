package dev.tinyedge.gguf;

import dev.tinyedge.tensor.GgmlType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file. Tensors are streamed one at a time from their {@link TensorSource}, so a
 * model larger than the heap can be written; the file appears under its name only when complete.
 */
public final class GgufWriter {

    /** Produces a tensor's bytes, in ggml's block layout, into a buffer of exactly the tensor's size. */
    @FunctionalInterface
    public interface TensorSource {
        void fill(ByteBuffer out) throws IOException;
    }

    private record PendingTensor(String name, GgmlType type, long[] shape, TensorSource source) {
        long byteSize() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return type.byteSize(n);
        }
    }

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private final int alignment;

    public GgufWriter() {
        this(GgufFile.DEFAULT_ALIGNMENT);
    }

    public GgufWriter(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment " + alignment + " is not a power of two");
        }
        this.alignment = alignment;
        if (alignment != GgufFile.DEFAULT_ALIGNMENT) {
            metadata.put("general.alignment", GgufValue.u32(alignment));
        }
    }

    public GgufWriter put(String key, GgufValue value) {
        if (key.isEmpty()) {
            throw new IllegalArgumentException("empty metadata key");
        }
        metadata.put(key, value);
        return this;
    }

    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorSource source) {
        if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length >= GgufFile.MAX_TENSOR_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name '" + name + "' must be 1.."
                    + (GgufFile.MAX_TENSOR_NAME_BYTES - 1) + " bytes");
        }
        if (tensors.stream().anyMatch(t -> t.name().equals(name))) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        if (shape[0] % type.blockSize != 0) {
            throw new IllegalArgumentException(name + ": row length " + shape[0] + " is not a multiple of " + type.blockSize);
        }
        tensors.add(new PendingTensor(name, type, shape.clone(), source));
        return this;
    }

    public void write(Path out) throws IOException {
        Path partial = out.resolveSibling(out.getFileName() + ".partial");
        try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Header header = new Header();
            header.u32(GgufFile.MAGIC);
            header.u32(3);
            header.u64(tensors.size());
            header.u64(metadata.size());
            metadata.forEach((key, value) -> {
                header.string(key);
                header.value(value);
            });
            long offset = 0;
            List<Long> offsets = new ArrayList<>();
            for (PendingTensor t : tensors) {
                header.string(t.name());
                header.u32(t.shape().length);
                for (long d : t.shape()) {
                    header.u64(d);
                }
                header.u32(t.type().id);
                header.u64(offset);
                offsets.add(offset);
                offset = alignUp(offset + t.byteSize(), alignment);
            }
            header.padTo(alignment);
            channel.write(header.buffer());

            long dataStart = channel.position();
            for (int i = 0; i < tensors.size(); i++) {
                PendingTensor t = tensors.get(i);
                ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(t.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
                t.source().fill(data);
                if (data.position() != data.capacity()) {
                    throw new IllegalStateException(t.name() + ": source wrote " + data.position() + " of " + data.capacity() + " bytes");
                }
                data.flip();
                channel.position(dataStart + offsets.get(i));
                while (data.hasRemaining()) {
                    channel.write(data);
                }
            }
            // pad the last tensor like llama.cpp's writer does, so every tensor's span is whole
            long end = dataStart + offset;
            if (channel.size() < end) {
                channel.write(ByteBuffer.allocate((int) (end - channel.size())), channel.size());
            }
        }
        Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static long alignUp(long x, long alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    /** A growable little-endian buffer for the header, metadata and tensor infos. */
    private static final class Header {
        private ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(long n) {
            if (buf.remaining() < n) {
                long capacity = Math.max((long) buf.capacity() * 2, buf.position() + n);
                ByteBuffer bigger = ByteBuffer.allocate(Math.toIntExact(capacity)).order(ByteOrder.LITTLE_ENDIAN);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        void u32(long v) {
            ensure(4);
            buf.putInt((int) v);
        }

        void u64(long v) {
            ensure(8);
            buf.putLong(v);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            ensure(b.length);
            buf.put(b);
        }

        void value(GgufValue v) {
            u32(v.type().id());
            if (v.type() == GgufValueType.ARRAY) {
                u32(v.elementType().id());
                u64(v.length());
                element(v.elementType(), v.value());
            } else {
                scalar(v.type(), v.value());
            }
        }

        private void scalar(GgufValueType type, Object value) {
            ensure(8);
            switch (type) {
                case UINT8, INT8 -> buf.put(((Number) value).byteValue());
                case BOOL -> buf.put((byte) ((Boolean) value ? 1 : 0));
                case UINT16, INT16 -> buf.putShort(((Number) value).shortValue());
                case UINT32, INT32 -> buf.putInt(((Number) value).intValue());
                case FLOAT32 -> buf.putFloat(((Number) value).floatValue());
                case UINT64, INT64 -> buf.putLong(((Number) value).longValue());
                case FLOAT64 -> buf.putDouble(((Number) value).doubleValue());
                case STRING -> string((String) value);
                case ARRAY -> throw new IllegalArgumentException("nested arrays are not GGUF");
            }
        }

        private void element(GgufValueType type, Object array) {
            switch (array) {
                case String[] a -> { for (String s : a) string(s); }
                case float[] a -> { ensure(4L * a.length); for (float f : a) buf.putFloat(f); }
                case int[] a -> { ensure(4L * a.length); for (int i : a) buf.putInt(i); }
                case long[] a -> { ensure(8L * a.length); for (long l : a) buf.putLong(l); }
                case double[] a -> { ensure(8L * a.length); for (double d : a) buf.putDouble(d); }
                case short[] a -> { ensure(2L * a.length); for (short s : a) buf.putShort(s); }
                case byte[] a -> { ensure(a.length); buf.put(a); }
                case boolean[] a -> { ensure(a.length); for (boolean b : a) buf.put((byte) (b ? 1 : 0)); }
                default -> throw new IllegalArgumentException("unsupported array for " + type + ": " + array.getClass());
            }
        }

        void padTo(int alignment) {
            int pad = (int) (alignUp(buf.position(), alignment) - buf.position());
            ensure(pad);
            buf.put(new byte[pad]);
        }

        ByteBuffer buffer() {
            return buf.duplicate().flip();
        }
    }
}
