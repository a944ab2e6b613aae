package dev.mpt.nn.checkpoint;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) reader and writer for safetensors headers. Objects become
 * {@code LinkedHashMap<String, Object>} in document order, arrays {@code List<Object>}, strings
 * {@code String}, integers {@code Long} (or {@code BigInteger} beyond the signed 64-bit range),
 * other numbers {@code Double}, and {@code true}/{@code false}/{@code null} themselves.
 *
 * <p>Strict means: no comments, no trailing commas, no leading zeros, no control characters or
 * unpaired surrogates in strings, no duplicate keys, nothing after the value but white space, at
 * most {@link #MAX_DEPTH} nested containers, integers of at most {@link #MAX_INTEGER_DIGITS} digits
 * and other numbers of at most {@link #MAX_NUMBER_CHARS} characters. The number bounds keep parsing
 * linear in the input (a {@code BigInteger} of a million digits takes seconds to build). Errors are
 * {@link IllegalArgumentException}s that give the character offset.
 */
final class Json {

    /** Deepest nesting of objects and arrays accepted (a safetensors header needs 3). */
    static final int MAX_DEPTH = 64;

    /**
     * Most digits of an integer: 20, enough for every unsigned 64-bit value, the widest sizes and
     * offsets a safetensors header holds (the reference implementation reads them as u64/usize).
     */
    static final int MAX_INTEGER_DIGITS = 20;

    /**
     * Most characters of a number with a fraction or exponent: 40, room for the 17 significant
     * digits that identify a double, a sign, a point and a 4-character exponent, twice over.
     */
    static final int MAX_NUMBER_CHARS = 40;

    private final String s;
    private int pos;

    private Json(String s) {
        this.s = s;
    }

    /** Parses one JSON value that makes up the whole of {@code text} (white space around it allowed). */
    static Object parse(String text) {
        Json p = new Json(text);
        p.skipWhitespace();
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.pos != text.length()) {
            throw p.error("unexpected " + p.describe() + " after the JSON value");
        }
        return v;
    }

    private Object value(int depth) {
        if (pos >= s.length()) {
            throw error("unexpected end of input, expected a value");
        }
        char c = s.charAt(pos);
        return switch (c) {
            case '{' -> object(depth + 1);
            case '[' -> array(depth + 1);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("unexpected " + describe() + ", expected a value");
            }
        };
    }

    private Map<String, Object> object(int depth) {
        checkDepth(depth);
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("unexpected " + describe() + ", expected a string key");
            }
            int keyPos = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object v = value(depth);
            if (map.containsKey(key)) {
                throw new IllegalArgumentException("duplicate key \"" + key + "\" at offset " + keyPos);
            }
            map.put(key, v);
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == '}') {
                pos++;
                return map;
            } else {
                throw error("unexpected " + describe() + ", expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) {
        checkDepth(depth);
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth));
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == ']') {
                pos++;
                return list;
            } else {
                throw error("unexpected " + describe() + ", expected ',' or ']'");
            }
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(pos);
            if (c == '"') {
                pos++;
                return sb.toString();
            }
            if (c < 0x20) {
                throw error(String.format("control character U+%04X in a string must be escaped", (int) c));
            }
            if (c == '\\') {
                pos++;
                if (pos >= s.length()) {
                    throw error("unterminated escape");
                }
                char e = s.charAt(pos);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        char u = hex4();
                        if (Character.isHighSurrogate(u)) {
                            if (!s.startsWith("\\u", pos + 1)) {
                                throw error(String.format("unpaired surrogate \\u%04X", (int) u));
                            }
                            pos += 2;
                            char low = hex4();
                            if (!Character.isLowSurrogate(low)) {
                                throw error(String.format("\\u%04X is not a low surrogate after \\u%04X", (int) low, (int) u));
                            }
                            sb.append(u).append(low);
                        } else if (Character.isLowSurrogate(u)) {
                            throw error(String.format("unpaired surrogate \\u%04X", (int) u));
                        } else {
                            sb.append(u);
                        }
                    }
                    default -> throw error("invalid escape \\" + e);
                }
                pos++;
            } else {
                if (Character.isSurrogate(c)) {
                    if (Character.isHighSurrogate(c) && pos + 1 < s.length() && Character.isLowSurrogate(s.charAt(pos + 1))) {
                        sb.append(c).append(s.charAt(pos + 1));
                        pos += 2;
                        continue;
                    }
                    throw error(String.format("unpaired surrogate U+%04X", (int) c));
                }
                sb.append(c);
                pos++;
            }
        }
    }

    /** Reads the 4 hex digits after {@code \\u} ({@code pos} at the 'u'); leaves {@code pos} on the last digit. */
    private char hex4() {
        if (pos + 4 >= s.length()) {
            throw error("truncated \\u escape");
        }
        int v = 0;
        for (int i = 1; i <= 4; i++) {
            int d = Character.digit(s.charAt(pos + i), 16);
            if (d < 0 || s.charAt(pos + i) > 'f') {
                throw error("invalid hex digit '" + s.charAt(pos + i) + "' in \\u escape");
            }
            v = v << 4 | d;
        }
        pos += 4;
        return (char) v;
    }

    private Object number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        int intStart = pos;
        if (peek() == '0') {
            pos++;
            if (isDigit(peek())) {
                throw error("leading zero in a number");
            }
        } else if (isDigit(peek())) {
            digits();
        } else {
            throw error("expected a digit");
        }
        if (pos - intStart > MAX_INTEGER_DIGITS) {
            throw new IllegalArgumentException("integer of more than " + MAX_INTEGER_DIGITS + " digits at offset "
                    + start + " (" + s.substring(start, start + 10) + "..., " + (pos - intStart) + " digits)");
        }
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            pos++;
            if (!isDigit(peek())) {
                throw error("expected a digit after '.'");
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw error("expected a digit in the exponent");
            }
            digits();
        }
        if (!integral && pos - start > MAX_NUMBER_CHARS) {
            throw new IllegalArgumentException("number longer than " + MAX_NUMBER_CHARS + " characters at offset "
                    + start + " (" + s.substring(start, start + 10) + "..., " + (pos - start) + " characters)");
        }
        String text = s.substring(start, pos);
        if (integral) {
            BigInteger b = new BigInteger(text);
            return b.bitLength() < 64 ? (Object) b.longValue() : b;
        }
        double d = Double.parseDouble(text);
        if (Double.isInfinite(d)) {
            throw new IllegalArgumentException("number " + text + " at offset " + start + " overflows a double");
        }
        return d;
    }

    private void digits() {
        while (isDigit(peek())) {
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, pos)) {
            throw error("unexpected " + describe() + ", expected a value");
        }
        pos += word.length();
        return v;
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("unexpected " + describe() + ", expected '" + c + "'");
        }
        pos++;
    }

    /** The current character, or {@code 0xFFFF} at the end of the input. */
    private char peek() {
        return pos < s.length() ? s.charAt(pos) : '\uffff';
    }

    private void skipWhitespace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private void checkDepth(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
    }

    private String describe() {
        if (pos >= s.length()) {
            return "end of input";
        }
        char c = s.charAt(pos);
        return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at offset " + pos);
    }

    /**
     * Writes {@code value} as compact JSON. Accepts maps with string keys, lists, strings, booleans,
     * {@code null}, integral numbers ({@code Integer}, {@code Long}, {@code BigInteger}) and finite
     * {@code Double}s. Strings are escaped as RFC 8259 requires; other characters, non-ASCII included,
     * are written as they are.
     */
    static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(value, sb, 0);
        return sb.toString();
    }

    private static void write(Object v, StringBuilder sb, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("Json.write: nesting deeper than " + MAX_DEPTH);
        }
        switch (v) {
            case null -> sb.append("null");
            case String str -> quote(str, sb);
            case Boolean b -> sb.append(b);
            case Integer i -> sb.append(i);
            case Long l -> sb.append(l);
            case BigInteger b -> sb.append(b);
            case Double d -> {
                if (!Double.isFinite(d)) {
                    throw new IllegalArgumentException("Json.write: " + d + " has no JSON form");
                }
                sb.append(d);
            }
            case Map<?, ?> m -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!(e.getKey() instanceof String key)) {
                        throw new IllegalArgumentException("Json.write: object key " + e.getKey() + " is not a String");
                    }
                    if (!first) {
                        sb.append(',');
                    }
                    first = false;
                    quote(key, sb);
                    sb.append(':');
                    write(e.getValue(), sb, depth + 1);
                }
                sb.append('}');
            }
            case List<?> list -> {
                sb.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    write(list.get(i), sb, depth + 1);
                }
                sb.append(']');
            }
            default -> throw new IllegalArgumentException("Json.write: cannot write a " + v.getClass().getName());
        }
    }

    private static void quote(String str, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < str.length(); i++) {
            char c = str.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else if (Character.isSurrogate(c) && !pairedAt(str, i)) {
                        throw new IllegalArgumentException(String.format(
                                "Json.write: unpaired surrogate U+%04X at index %d of a string (not encodable in UTF-8)",
                                (int) c, i));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static boolean pairedAt(String str, int i) {
        char c = str.charAt(i);
        return Character.isHighSurrogate(c) ? i + 1 < str.length() && Character.isLowSurrogate(str.charAt(i + 1))
                : i > 0 && Character.isHighSurrogate(str.charAt(i - 1));
    }
}
