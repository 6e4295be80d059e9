package dev.tinyedge.gguf;

import dev.tinyedge.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3) read in place from a read-only memory map. Metadata is parsed onto the
 * heap; tensor data stays in the mapping and is handed out as slices of it.
 *
 * <p>Everything read is checked against the file size and sane limits before it is used, so a truncated
 * or hostile file fails fast with a {@link GgufFormatException} naming the offset, never with an
 * OutOfMemoryError, a long loop or another exception. The rules are llama.cpp's ({@code ggml/src/gguf.cpp}),
 * so a file this class accepts is one llama.cpp loads, with a few stricter checks noted where they are made.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** ggml's GGML_MAX_NAME: a tensor name must be shorter, to fit its C buffer with the terminator. */
    static final int MAX_TENSOR_NAME_BYTES = 64;
    /**
     * Header, metadata and tensor infos together. Real models need a few MiB (a 256k-entry vocabulary with
     * its merges is about 20 MiB); the cap bounds the heap a hostile file can make us fill with metadata.
     */
    static final long MAX_HEADER_BYTES = 128L << 20;
    /** Smallest tensor info: 1-byte name with its u64 length, u32 n_dims, one u64 dim, u32 type, u64 offset. */
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8;
    /** Smallest key/value: 1-byte key with its u64 length, u32 type, 1-byte value. */
    private static final int MIN_KV_BYTES = 8 + 1 + 4 + 1;

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
    /** Where each metadata value starts in the file, so a value of the wrong type can be reported there. */
    private final Map<String, Long> valueOffsets;
    private final Map<String, GgufTensorInfo> tensors;
    private final long alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment file, int version, Map<String, GgufValue> metadata,
                     Map<String, Long> valueOffsets, Map<String, GgufTensorInfo> tensors, long alignment,
                     long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.version = version;
        this.metadata = metadata;
        this.valueOffsets = valueOffsets;
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
            throw new GgufFormatException("metadata key " + quoted(key) + " is " + v.type() + ", expected an integer",
                    valueOffsets.get(key));
        }
        return v.asLong();
    }

    public double getDouble(String key, double fallback) throws GgufFormatException {
        GgufValue v = metadata.get(key);
        if (v == null) {
            return fallback;
        }
        if (!(v.value() instanceof Number)) {
            throw new GgufFormatException("metadata key " + quoted(key) + " is " + v.type() + ", expected a number",
                    valueOffsets.get(key));
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

    @Override
    public String toString() {
        return path + " (GGUF v" + version + ", " + tensors.size() + " tensors, " + metadata.size() + " keys)";
    }

    /**
     * A key or tensor name as an error message shows it: quoted, cut short, control characters escaped, so that
     * a hostile name can neither flood nor garble the one-line error.
     */
    static String quoted(String name) {
        StringBuilder sb = new StringBuilder("'");
        name.codePoints().limit(80).forEach(c -> {
            if (Character.isISOControl(c)) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.append(name.codePointCount(0, name.length()) > 80 ? "...'" : "'").toString();
    }

    /** Reads the header, metadata and tensor infos with a bounds-checked cursor, then checks the data layout. */
    private static final class Parser {
        private final Path path;
        private final Arena arena;
        private final MemorySegment file;
        private final long size;
        /** Where header parsing must stop: the end of the file or {@link #MAX_HEADER_BYTES}, whichever is first. */
        private final long headerEnd;
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        private long pos;

        Parser(Path path, Arena arena, MemorySegment file) {
            this.path = path;
            this.arena = arena;
            this.file = file;
            this.size = file.byteSize();
            this.headerEnd = Math.min(size, MAX_HEADER_BYTES);
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
            int version = version();
            long tensorCount = count("tensor count", MIN_TENSOR_INFO_BYTES);
            long kvCount = count("metadata count", MIN_KV_BYTES);

            Map<String, GgufValue> metadata = new LinkedHashMap<>();
            Map<String, Long> valueOffsets = new HashMap<>();
            for (long i = 0; i < kvCount; i++) {
                long keyAt = pos;
                String key = string();
                if (key.isEmpty()) {
                    throw new GgufFormatException("empty metadata key", keyAt);
                }
                if (metadata.containsKey(key)) {
                    throw new GgufFormatException("duplicate metadata key " + quoted(key), keyAt);
                }
                valueOffsets.put(key, pos);
                metadata.put(key, value());
            }
            long alignment = alignment(metadata, valueOffsets);

            List<GgufTensorInfo> infos = new ArrayList<>();
            List<Long> offsetFieldsAt = new ArrayList<>();
            Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
            for (long i = 0; i < tensorCount; i++) {
                long infoAt = pos;
                GgufTensorInfo info = tensorInfo();
                if (tensors.putIfAbsent(info.name(), info) != null) {
                    throw new GgufFormatException("duplicate tensor name " + quoted(info.name()), infoAt);
                }
                infos.add(info);
                offsetFieldsAt.add(pos - 8); // the data offset is the last field of a tensor info
            }

            // like llama.cpp, pad to the data section only when there is one
            long dataOffset = tensorCount > 0 ? alignUp(pos, alignment) : pos;
            if (dataOffset > size) {
                throw new GgufFormatException("file ends before its tensor data section", size);
            }
            checkDataLayout(infos, offsetFieldsAt, alignment, size - dataOffset);
            return new GgufFile(path, arena, file, version, Collections.unmodifiableMap(metadata),
                    valueOffsets, Collections.unmodifiableMap(tensors), alignment, dataOffset);
        }

        private int version() throws GgufFormatException {
            long at = pos;
            long version = u32();
            if (version == 1) {
                throw new GgufFormatException("GGUF version 1 is not supported (re-convert the model)", at);
            }
            if (version != 0 && (version & 0xFFFF) == 0) {
                // what a big-endian file's version 3 reads as, so say so, as llama.cpp does
                throw new GgufFormatException("unsupported GGUF version " + version
                        + " (a big-endian file? only little-endian GGUF is supported)", at);
            }
            if (version != 2 && version != 3) {
                throw new GgufFormatException("unsupported GGUF version " + version + " (2 and 3 are supported)", at);
            }
            return (int) version;
        }

        /** A u64 count of entries that each take at least {@code minBytes} of the header. */
        private long count(String what, int minBytes) throws GgufFormatException {
            long at = pos;
            long count = u64();
            if (count < 0 || count > (headerEnd - pos) / minBytes) {
                throw new GgufFormatException("absurd " + what + " " + Long.toUnsignedString(count)
                        + " for a header of at most " + (headerEnd - pos) + " more bytes", at);
            }
            return count;
        }

        private static long alignment(Map<String, GgufValue> metadata, Map<String, Long> valueOffsets)
                throws GgufFormatException {
            GgufValue value = metadata.get("general.alignment");
            if (value == null) {
                return DEFAULT_ALIGNMENT;
            }
            long at = valueOffsets.get("general.alignment");
            if (value.type() != GgufValueType.UINT32) {
                throw new GgufFormatException("general.alignment must be a UINT32, is " + value.type(), at);
            }
            long alignment = value.asLong();
            if (alignment == 0 || Long.bitCount(alignment) != 1) {
                throw new GgufFormatException("general.alignment " + alignment + " is not a power of two", at);
            }
            return alignment;
        }

        private GgufTensorInfo tensorInfo() throws GgufFormatException {
            long nameAt = pos;
            String name = string();
            if (name.isEmpty()) {
                throw new GgufFormatException("empty tensor name", nameAt);
            }
            int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
            if (nameBytes >= MAX_TENSOR_NAME_BYTES) {
                throw new GgufFormatException("tensor name " + quoted(name) + " is " + nameBytes + " bytes long (at most "
                        + (MAX_TENSOR_NAME_BYTES - 1) + " allowed)", nameAt);
            }
            long dimsAt = pos;
            long nDims = u32();
            // llama.cpp reads n_dims 0 as a scalar, but its writers never produce one and no weight is a scalar
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new GgufFormatException("tensor " + quoted(name) + " has " + nDims + " dimensions (1.." + MAX_DIMS
                        + " allowed)", dimsAt);
            }
            long[] shape = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long dimAt = pos;
                shape[d] = u64();
                // llama.cpp allows empty tensors; a model has none, and a zero would only divide something later
                if (shape[d] <= 0) {
                    throw new GgufFormatException("tensor " + quoted(name) + " has dimension " + d + " of "
                            + Long.toUnsignedString(shape[d]), dimAt);
                }
                if (elements > Long.MAX_VALUE / shape[d]) {
                    throw new GgufFormatException("tensor " + quoted(name) + " has more than 2^63 elements", dimAt);
                }
                elements *= shape[d];
            }
            long typeAt = pos;
            long typeId = u32();
            GgmlType type = GgmlType.fromId(typeId);
            if (type == null) {
                throw new GgufFormatException("tensor " + quoted(name) + " has ggml type " + typeId
                        + ", which is unknown or unsupported", typeAt);
            }
            if (shape[0] % type.blockSize != 0) {
                throw new GgufFormatException("tensor " + quoted(name) + " row length " + shape[0]
                        + " is not a multiple of " + type + "'s block size " + type.blockSize, dimsAt);
            }
            if (elements / type.blockSize > Long.MAX_VALUE / type.typeSize) {
                throw new GgufFormatException("tensor " + quoted(name) + " has more than 2^63 bytes", dimsAt);
            }
            long offset = u64();
            return new GgufTensorInfo(name, shape, type, offset);
        }

        /**
         * llama.cpp requires the tensors' data in file order, each at the next multiple of the alignment after
         * the one before; that rules out gaps, overlaps and out-of-order data in one check. Stricter than
         * llama.cpp, which looks only when it reads the data, the bytes must all be in the file.
         */
        private static void checkDataLayout(List<GgufTensorInfo> infos, List<Long> offsetFieldsAt, long alignment,
                                            long dataSize) throws GgufFormatException {
            long expected = 0;
            for (int i = 0; i < infos.size(); i++) {
                GgufTensorInfo info = infos.get(i);
                long at = offsetFieldsAt.get(i);
                String offset = Long.toUnsignedString(info.offset());
                if (Long.remainderUnsigned(info.offset(), alignment) != 0) {
                    throw new GgufFormatException("tensor " + quoted(info.name()) + " data offset " + offset
                            + " is not a multiple of the alignment " + alignment, at);
                }
                if (info.offset() != expected) {
                    throw new GgufFormatException("tensor " + quoted(info.name()) + " data offset " + offset
                            + " should be " + expected + " (right after the previous tensor's data)", at);
                }
                long byteSize = info.byteSize();
                if (byteSize > dataSize - expected) {
                    throw new GgufFormatException("tensor " + quoted(info.name()) + " data [" + expected + ", +"
                            + byteSize + ") runs past the end of the file (data section is " + dataSize
                            + " bytes)", at);
                }
                // cannot overflow: both terms are within the file
                expected += alignUp(byteSize, alignment);
            }
        }

        private GgufValue value() throws GgufFormatException {
            long typeAt = pos;
            long typeId = u32();
            GgufValueType type = GgufValueType.fromId(typeId);
            if (type == null) {
                throw new GgufFormatException("unknown metadata value type " + typeId, typeAt);
            }
            if (type != GgufValueType.ARRAY) {
                return new GgufValue(type, null, scalar(type));
            }
            long elemAt = pos;
            long elemId = u32();
            GgufValueType elem = GgufValueType.fromId(elemId);
            if (elem == null || elem == GgufValueType.ARRAY) {
                throw new GgufFormatException("array element type " + elemId
                        + (elem == null ? " is unknown" : " (nested arrays are not GGUF)"), elemAt);
            }
            long countAt = pos;
            long count = u64();
            long minSize = elem == GgufValueType.STRING ? 8 : elem.size;
            // the header cap keeps any count that passes this well inside an int
            if (count < 0 || count > (headerEnd - pos) / minSize) {
                throw new GgufFormatException("absurd array length " + Long.toUnsignedString(count) + " for "
                        + (headerEnd - pos) + " bytes left in the header", countAt);
            }
            return new GgufValue(type, elem, array(elem, (int) count));
        }

        private Object array(GgufValueType elem, int n) throws GgufFormatException {
            long at = pos;
            return switch (elem) {
                case UINT8, INT8 -> bytes(n);
                case UINT16, INT16 -> {
                    short[] a = new short[n];
                    MemorySegment.copy(need(2L * n), I16, at, a, 0, n);
                    yield a;
                }
                case UINT32, INT32 -> {
                    int[] a = new int[n];
                    MemorySegment.copy(need(4L * n), I32, at, a, 0, n);
                    yield a;
                }
                case UINT64, INT64 -> {
                    long[] a = new long[n];
                    MemorySegment.copy(need(8L * n), I64, at, a, 0, n);
                    yield a;
                }
                case FLOAT32 -> {
                    float[] a = new float[n];
                    MemorySegment.copy(need(4L * n), F32, at, a, 0, n);
                    yield a;
                }
                case FLOAT64 -> {
                    double[] a = new double[n];
                    MemorySegment.copy(need(8L * n), F64, at, a, 0, n);
                    yield a;
                }
                case BOOL -> {
                    boolean[] a = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = bool();
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
                case ARRAY -> throw new IllegalArgumentException("nested array");
            };
        }

        private Object scalar(GgufValueType type) throws GgufFormatException {
            long at = pos;
            return switch (type) {
                case UINT8 -> Byte.toUnsignedInt(need(1).get(ValueLayout.JAVA_BYTE, at));
                case INT8 -> need(1).get(ValueLayout.JAVA_BYTE, at);
                case UINT16 -> Short.toUnsignedInt(need(2).get(I16, at));
                case INT16 -> need(2).get(I16, at);
                case UINT32 -> u32();
                case INT32 -> need(4).get(I32, at);
                case FLOAT32 -> need(4).get(F32, at);
                case BOOL -> bool();
                case STRING -> string();
                case UINT64, INT64 -> u64();
                case FLOAT64 -> need(8).get(F64, at);
                case ARRAY -> throw new IllegalArgumentException("array is not a scalar");
            };
        }

        /** The spec allows only 0 and 1 (llama.cpp reads any non-zero byte as true). */
        private boolean bool() throws GgufFormatException {
            long at = pos;
            byte b = need(1).get(ValueLayout.JAVA_BYTE, at);
            if (b != 0 && b != 1) {
                throw new GgufFormatException("bool value " + b + " is neither 0 nor 1", at);
            }
            return b == 1;
        }

        /** Checks that n more header bytes exist, advances past them and returns the file for the read. */
        private MemorySegment need(long n) throws GgufFormatException {
            if (n > headerEnd - pos) {
                if (headerEnd < size) {
                    throw new GgufFormatException("header (metadata and tensor infos) is larger than "
                            + (MAX_HEADER_BYTES >> 20) + " MiB", pos);
                }
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
            if (length < 0 || length > headerEnd - pos) {
                throw new GgufFormatException("absurd string length " + Long.toUnsignedString(length) + " for "
                        + (headerEnd - pos) + " bytes left in the header", lengthAt);
            }
            long at = pos;
            ByteBuffer in = ByteBuffer.wrap(bytes((int) length));
            CharBuffer out = CharBuffer.allocate((int) length); // UTF-8 never decodes to more chars than bytes
            utf8.reset();
            if (utf8.decode(in, out, true).isError() || utf8.flush(out).isError()) {
                throw new GgufFormatException("string is not valid UTF-8", at + in.position());
            }
            return out.flip().toString();
        }

        private static long alignUp(long x, long alignment) {
            return (x + alignment - 1) / alignment * alignment;
        }
    }
}
