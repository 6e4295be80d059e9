package dev.tinyedge.gguf;

import java.util.Objects;

/**
 * One metadata value. Scalars are boxed Java values (unsigned types widened: u8/u16 as Integer, u32 as
 * Long, u64 as Long bits); arrays are primitive Java arrays (byte[], short[], int[], long[], float[],
 * double[], boolean[]) or String[], with {@code elementType} saying which GGUF type they hold.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public GgufValue {
        Objects.requireNonNull(type);
        Objects.requireNonNull(value);
        if ((type == GgufValueType.ARRAY) != (elementType != null)) {
            throw new IllegalArgumentException("elementType is for arrays only");
        }
        // a writer given the wrong Java type would write the wrong number of bytes
        Class<?> expected = type == GgufValueType.ARRAY ? arrayClass(elementType) : scalarClass(type);
        if (!expected.isInstance(value)) {
            throw new IllegalArgumentException((elementType == null ? type : elementType + " array") + " needs a "
                    + expected.getSimpleName() + ", not a " + value.getClass().getSimpleName());
        }
    }

    private static Class<?> scalarClass(GgufValueType type) {
        return switch (type) {
            case BOOL -> Boolean.class;
            case STRING -> String.class;
            case ARRAY -> throw new IllegalArgumentException("ARRAY is not a scalar type");
            default -> Number.class;
        };
    }

    private static Class<?> arrayClass(GgufValueType elementType) {
        return switch (elementType) {
            case UINT8, INT8 -> byte[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case BOOL -> boolean[].class;
            case STRING -> String[].class;
            case ARRAY -> throw new IllegalArgumentException("nested arrays are not GGUF");
        };
    }

    public static GgufValue string(String s) {
        return new GgufValue(GgufValueType.STRING, null, s);
    }

    public static GgufValue u32(long v) {
        return new GgufValue(GgufValueType.UINT32, null, v);
    }

    public static GgufValue i32(int v) {
        return new GgufValue(GgufValueType.INT32, null, v);
    }

    public static GgufValue f32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, null, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, null, v);
    }

    public static GgufValue strings(String[] v) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.STRING, v);
    }

    public static GgufValue floats(float[] v) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT32, v);
    }

    public static GgufValue i32s(int[] v) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.INT32, v);
    }

    /** Number of elements of an array value. */
    public int length() {
        return java.lang.reflect.Array.getLength(value);
    }

    /** The value as a long, for any integer type (and bool as 0/1). */
    public long asLong() {
        return switch (value) {
            case Number n when !(value instanceof Float || value instanceof Double) -> n.longValue();
            case Boolean b -> b ? 1 : 0;
            default -> throw new IllegalStateException("not an integer: " + type);
        };
    }

    public double asDouble() {
        if (value instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalStateException("not a number: " + type);
    }
}
