package dev.mpt.nn.data;

/**
 * The element types of the IDX format (third byte of the magic number), all stored big-endian.
 */
public enum IdxType {
    /** Unsigned byte, code {@code 0x08}. */
    UBYTE(0x08, 1),
    /** Signed byte, code {@code 0x09}. */
    BYTE(0x09, 1),
    /** Signed 16-bit integer, code {@code 0x0B}. */
    SHORT(0x0B, 2),
    /** Signed 32-bit integer, code {@code 0x0C}. */
    INT(0x0C, 4),
    /** IEEE 754 binary32, code {@code 0x0D}. */
    FLOAT(0x0D, 4),
    /** IEEE 754 binary64, code {@code 0x0E}. */
    DOUBLE(0x0E, 8);

    private final int code;
    private final int byteSize;

    IdxType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** The type code stored in the magic number. */
    public int code() {
        return code;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The type with the given code, or {@code null} when no IDX type has it. */
    static IdxType ofCode(int code) {
        for (IdxType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
