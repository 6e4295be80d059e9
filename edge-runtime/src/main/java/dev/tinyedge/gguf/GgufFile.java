package dev.tinyedge.gguf;

import dev.tinyedge.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3) read in place from a read-only memory map. Metadata is parsed onto the
 * heap; tensor data stays in the mapping and is handed out as slices of it.
 *
 * <p>Everything read is checked against the file size and sane limits before it is used, so a truncated
 * or hostile file fails fast with a {@link GgufFormatException} naming the offset, never with an
 * OutOfMemoryError or a long loop.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;
    static final long MAX_STRING_BYTES = 1L << 24;
    static final long MAX_TENSORS = 1L << 20;
    static final long MAX_KV = 1L << 20;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final long alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment file, int version, Map<String, GgufValue> metadata,
                     Map<String, GgufTensorInfo> tensors, long alignment, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    /** Maps and parses the file; the mapping lives until {@link #close()}. */
    public static GgufFile open(Path path) throws IOException, GgufFormatException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment file = size == 0 ? MemorySegment.NULL.reinterpret(0)
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new Parser(path, arena, file).parse();
        } catch (IOException | GgufFormatException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public long fileSize() {
        return file.byteSize();
    }

    public long alignment() {
        return alignment;
    }

    /** Absolute offset of the data section. */
    public long dataOffset() {
        return dataOffset;
    }

    /** Metadata in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    /** Tensor infos in file order. */
    public List<GgufTensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    public GgufTensorInfo tensor(String name) {
        return tensors.get(name);
    }

    /** The tensor's bytes, in place in the mapping (no copy). */
    public MemorySegment data(GgufTensorInfo info) {
        return file.asSlice(dataOffset + info.offset(), info.byteSize());
    }

    public GgufValue get(String key) {
        return metadata.get(key);
    }

    public String getString(String key, String fallback) {
        GgufValue v = metadata.get(key);
        return v != null && v.value() instanceof String s ? s : fallback;
    }

    /** An integer value; a missing key gives the fallback, a key of another type a format error. */
    public long getLong(String key, long fallback) throws GgufFormatException {
        GgufValue v = metadata.get(key);
        if (v == null) {
            return fallback;
        }
        if (v.type() == GgufValueType.ARRAY || v.type() == GgufValueType.STRING
                || v.type() == GgufValueType.FLOAT32 || v.type() == GgufValueType.FLOAT64) {
            throw new GgufFormatException("metadata key '" + key + "' is " + v.type() + ", expected an integer", 0);
        }
        return v.asLong();
    }

    public double getDouble(String key, double fallback) throws GgufFormatException {
        GgufValue v = metadata.get(key);
        if (v == null) {
            return fallback;
        }
        if (!(v.value() instanceof Number)) {
            throw new GgufFormatException("metadata key '" + key + "' is " + v.type() + ", expected a number", 0);
        }
        return v.asDouble();
    }

    public boolean getBool(String key, boolean fallback) {
        GgufValue v = metadata.get(key);
        return v != null && v.value() instanceof Boolean b ? b : fallback;
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Reads the header, metadata and tensor infos with a bounds-checked cursor. */
    private static final class Parser {
        private final Path path;
        private final Arena arena;
        private final MemorySegment file;
        private final long size;
        private long pos;

        Parser(Path path, Arena arena, MemorySegment file) {
            this.path = path;
            this.arena = arena;
            this.file = file;
            this.size = file.byteSize();
        }

        GgufFile parse() throws GgufFormatException {
            if (size < 4) {
                throw new GgufFormatException("file too short to be GGUF (" + size + " bytes)", 0);
            }
            int magic = file.get(I32, 0);
            if (magic != MAGIC) {
                throw new GgufFormatException(String.format("bad magic 0x%08x, not a GGUF file", magic), 0);
            }
            pos = 4;
            long versionAt = pos;
            long version = u32();
            if (version == 1) {
                throw new GgufFormatException("GGUF version 1 is not supported (re-convert the model)", versionAt);
            }
            if (version != 2 && version != 3) {
                throw new GgufFormatException("unsupported GGUF version " + version, versionAt);
            }
            long countAt = pos;
            long tensorCount = u64();
            // every tensor info takes at least 8 (name) + 4 + 8 + 4 + 8 bytes
            if (tensorCount < 0 || tensorCount > MAX_TENSORS || tensorCount > (size - pos) / 32) {
                throw new GgufFormatException("absurd tensor count " + Long.toUnsignedString(tensorCount), countAt);
            }
            countAt = pos;
            long kvCount = u64();
            // every key/value takes at least 8 (key) + 4 (type) + 1 bytes
            if (kvCount < 0 || kvCount > MAX_KV || kvCount > (size - pos) / 13) {
                throw new GgufFormatException("absurd metadata count " + Long.toUnsignedString(kvCount), countAt);
            }

            Map<String, GgufValue> metadata = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                long keyAt = pos;
                String key = string();
                if (key.isEmpty()) {
                    throw new GgufFormatException("empty metadata key", keyAt);
                }
                GgufValue value = value();
                if (metadata.putIfAbsent(key, value) != null) {
                    throw new GgufFormatException("duplicate metadata key '" + key + "'", keyAt);
                }
            }

            long alignment = DEFAULT_ALIGNMENT;
            GgufValue align = metadata.get("general.alignment");
            if (align != null) {
                if (align.type() != GgufValueType.UINT32) {
                    throw new GgufFormatException("general.alignment must be a u32, is " + align.type(), 0);
                }
                alignment = align.asLong();
                if (alignment <= 0 || Long.bitCount(alignment) != 1 || alignment > 1 << 20) {
                    throw new GgufFormatException("general.alignment " + alignment + " is not a power of two", 0);
                }
            }

            List<long[]> spans = new ArrayList<>(); // {offset, size, info offset in the file}
            Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
            for (long i = 0; i < tensorCount; i++) {
                long infoAt = pos;
                GgufTensorInfo info = tensorInfo(alignment);
                if (tensors.putIfAbsent(info.name(), info) != null) {
                    throw new GgufFormatException("duplicate tensor name '" + info.name() + "'", infoAt);
                }
                spans.add(new long[] {info.offset(), info.byteSize(), infoAt});
            }

            long dataOffset = alignUp(pos, alignment);
            if (tensorCount > 0 && dataOffset > size) {
                throw new GgufFormatException("file ends before its tensor data section", size);
            }
            long dataSize = size - Math.min(dataOffset, size);
            spans.sort(Comparator.comparingLong(s -> s[0]));
            long end = 0;
            for (long[] span : spans) {
                if (span[0] + span[1] > dataSize) {
                    throw new GgufFormatException("tensor data [" + span[0] + ", " + (span[0] + span[1])
                            + ") of the data section runs past the end of the file (data section is "
                            + dataSize + " bytes)", span[2]);
                }
                if (span[0] < end) {
                    throw new GgufFormatException("tensor data at " + span[0] + " overlaps the tensor data that ends at " + end, span[2]);
                }
                end = span[0] + span[1];
            }
            return new GgufFile(path, arena, file, (int) version, Collections.unmodifiableMap(metadata),
                    Collections.unmodifiableMap(tensors), alignment, dataOffset);
        }

        private GgufTensorInfo tensorInfo(long alignment) throws GgufFormatException {
            long nameAt = pos;
            String name = string();
            if (name.isEmpty()) {
                throw new GgufFormatException("empty tensor name", nameAt);
            }
            long dimsAt = pos;
            long nDims = u32();
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new GgufFormatException("tensor '" + name + "' has " + nDims + " dimensions (1.." + MAX_DIMS + " allowed)", dimsAt);
            }
            long[] shape = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long dimAt = pos;
                shape[d] = u64();
                if (shape[d] <= 0 || shape[d] > (1L << 40)) {
                    throw new GgufFormatException("tensor '" + name + "' has dimension " + d + " of "
                            + Long.toUnsignedString(shape[d]), dimAt);
                }
                if (elements > Long.MAX_VALUE / shape[d] / 4) {
                    throw new GgufFormatException("tensor '" + name + "' has too many elements", dimAt);
                }
                elements *= shape[d];
            }
            long typeAt = pos;
            long typeId = u32();
            GgmlType type = GgmlType.fromId(typeId);
            if (type == null) {
                throw new GgufFormatException("tensor '" + name + "' has unknown ggml type " + typeId, typeAt);
            }
            if (shape[0] % type.blockSize != 0) {
                throw new GgufFormatException("tensor '" + name + "' row length " + shape[0]
                        + " is not a multiple of " + type + "'s block size " + type.blockSize, dimsAt);
            }
            long offsetAt = pos;
            long offset = u64();
            if (offset < 0) {
                throw new GgufFormatException("tensor '" + name + "' has offset " + Long.toUnsignedString(offset), offsetAt);
            }
            if (offset % alignment != 0) {
                throw new GgufFormatException("tensor '" + name + "' offset " + offset
                        + " is not a multiple of the alignment " + alignment, offsetAt);
            }
            return new GgufTensorInfo(name, shape, type, offset);
        }

        private GgufValue value() throws GgufFormatException {
            long typeAt = pos;
            GgufValueType type = GgufValueType.fromId(u32());
            if (type == null) {
                throw new GgufFormatException("unknown metadata value type", typeAt);
            }
            if (type != GgufValueType.ARRAY) {
                return new GgufValue(type, null, scalar(type));
            }
            long elemAt = pos;
            GgufValueType elem = GgufValueType.fromId(u32());
            if (elem == null || elem == GgufValueType.ARRAY) {
                throw new GgufFormatException("unsupported array element type", elemAt);
            }
            long countAt = pos;
            long count = u64();
            long minSize = elem == GgufValueType.STRING ? 8 : elem.size;
            if (count < 0 || count > Integer.MAX_VALUE - 8 || count > (size - pos) / minSize) {
                throw new GgufFormatException("absurd array length " + Long.toUnsignedString(count), countAt);
            }
            int n = (int) count;
            Object array = switch (elem) {
                case UINT8, INT8 -> bytes(n);
                case UINT16, INT16 -> {
                    short[] a = new short[n];
                    MemorySegment.copy(file, I16, pos, a, 0, n);
                    pos += 2L * n;
                    yield a;
                }
                case UINT32, INT32 -> {
                    int[] a = new int[n];
                    MemorySegment.copy(file, I32, pos, a, 0, n);
                    pos += 4L * n;
                    yield a;
                }
                case UINT64, INT64 -> {
                    long[] a = new long[n];
                    MemorySegment.copy(file, I64, pos, a, 0, n);
                    pos += 8L * n;
                    yield a;
                }
                case FLOAT32 -> {
                    float[] a = new float[n];
                    MemorySegment.copy(file, F32, pos, a, 0, n);
                    pos += 4L * n;
                    yield a;
                }
                case FLOAT64 -> {
                    double[] a = new double[n];
                    MemorySegment.copy(file, F64, pos, a, 0, n);
                    pos += 8L * n;
                    yield a;
                }
                case BOOL -> {
                    byte[] raw = bytes(n);
                    boolean[] a = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = raw[i] != 0;
                    }
                    yield a;
                }
                case STRING -> {
                    String[] a = new String[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = string();
                    }
                    yield a;
                }
                case ARRAY -> throw new AssertionError();
            };
            return new GgufValue(type, elem, array);
        }

        private Object scalar(GgufValueType type) throws GgufFormatException {
            long at = pos;
            return switch (type) {
                case UINT8 -> Byte.toUnsignedInt(bytes(1)[0]);
                case INT8 -> bytes(1)[0];
                case UINT16 -> Short.toUnsignedInt(need(2).get(I16, at));
                case INT16 -> need(2).get(I16, at);
                case UINT32 -> u32();
                case INT32 -> need(4).get(I32, at);
                case FLOAT32 -> need(4).get(F32, at);
                case BOOL -> {
                    byte b = bytes(1)[0];
                    if (b != 0 && b != 1) {
                        throw new GgufFormatException("bool value " + b + " is neither 0 nor 1", at);
                    }
                    yield b == 1;
                }
                case STRING -> string();
                case UINT64, INT64 -> u64();
                case FLOAT64 -> need(8).get(F64, at);
                case ARRAY -> throw new AssertionError();
            };
        }

        /** Checks that n bytes remain, advances past them and returns the file for the read. */
        private MemorySegment need(long n) throws GgufFormatException {
            if (n > size - pos) {
                throw new GgufFormatException("file truncated: needed " + n + " bytes, " + (size - pos) + " left", pos);
            }
            pos += n;
            return file;
        }

        private long u32() throws GgufFormatException {
            long at = pos;
            return Integer.toUnsignedLong(need(4).get(I32, at));
        }

        private long u64() throws GgufFormatException {
            long at = pos;
            return need(8).get(I64, at);
        }

        private byte[] bytes(int n) throws GgufFormatException {
            long at = pos;
            need(n);
            byte[] b = new byte[n];
            MemorySegment.copy(file, ValueLayout.JAVA_BYTE, at, b, 0, n);
            return b;
        }

        private String string() throws GgufFormatException {
            long lengthAt = pos;
            long length = u64();
            if (length < 0 || length > MAX_STRING_BYTES || length > size - pos) {
                throw new GgufFormatException("absurd string length " + Long.toUnsignedString(length), lengthAt);
            }
            long at = pos;
            byte[] raw = bytes((int) length);
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(raw)).toString();
            } catch (CharacterCodingException e) {
                throw new GgufFormatException("string is not valid UTF-8", at);
            }
        }

        private static long alignUp(long x, long alignment) {
            return (x + alignment - 1) / alignment * alignment;
        }
    }

    @Override
    public String toString() {
        return path + " (GGUF v" + version + ", " + tensors.size() + " tensors, " + metadata.size() + " keys)";
    }
}
