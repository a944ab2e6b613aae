package dev.mpt.nn.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {

    @Test
    void parsesEveryKindOfValue() {
        Object v = Json.parse(" {\"a\": [1, -2, 0, 3.5, -1e3, 2E+2, 1.5e-2], \"b\": {\"c\": true, \"d\": false,"
                + " \"e\": null}, \"f\": \"x\", \"g\": [], \"h\": {}}\n");
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("a", List.of(1L, -2L, 0L, 3.5, -1000.0, 200.0, 0.015));
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("c", true);
        b.put("d", false);
        b.put("e", null);
        expected.put("b", b);
        expected.put("f", "x");
        expected.put("g", List.of());
        expected.put("h", Map.of());
        assertEquals(expected, v);
        assertEquals(List.of("a", "b", "f", "g", "h"), List.copyOf(((Map<?, ?>) v).keySet()), "document order");
    }

    @Test
    void parsesLargeIntegersExactly() {
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(new BigInteger("9223372036854775808"), Json.parse("9223372036854775808"));
    }

    @Test
    void boundsNumbersToWhatSizesAndOffsetsNeed() {
        assertEquals(new BigInteger("99999999999999999999"), Json.parse("99999999999999999999"));
        assertEquals(new BigInteger("-99999999999999999999"), Json.parse("-99999999999999999999"));
        for (String text : new String[] {"123456789012345678901", "1".repeat(1_000_000), "[0," + "9".repeat(1_000_000) + "]",
            "-" + "1".repeat(1_000_000)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(text));
            assertTrue(e.getMessage().contains("integer of more than " + Json.MAX_INTEGER_DIGITS + " digits at offset"),
                    e.getMessage());
            assertTrue(e.getMessage().length() < 200, "message quotes the whole number: " + e.getMessage().length());
        }
        assertEquals(1.25e-300, Json.parse("1.25e-300"));
        assertEquals(0.1, Json.parse("0.1000000000000000055511151231257827"));
        for (String text : new String[] {"0." + "1".repeat(1_000_000), "1e" + "1".repeat(1_000_000),
            "1" + ".5".repeat(1) + "0".repeat(Json.MAX_NUMBER_CHARS)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(text));
            assertTrue(e.getMessage().contains("number longer than " + Json.MAX_NUMBER_CHARS + " characters at offset"),
                    e.getMessage());
        }
    }

    @Test
    void decodesEscapesAndUnicode() {
        assertEquals("\"\\/\b\f\n\r\t", Json.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""));
        assertEquals("caf\u00e9", Json.parse("\"caf\\u00e9\""));
        assertEquals("caf\u00e9", Json.parse("\"caf\u00e9\""));
        assertEquals("\uD83D\uDC0B", Json.parse("\"\\ud83d\\udc0b\""));
        assertEquals("\uD83D\uDC0B", Json.parse("\"\uD83D\uDC0B\""));
        assertEquals("\u0000", Json.parse("\"\\u0000\""));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{'a':1}", "01", "-", "1.",
        ".5", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"",
        "\"\\u12g4\"", "\"\\ud83d\"", "\"\\ud83dx\"", "\"\\udc0b\"", "\"\\ud83d\\u0041\"", "\"tab\there\"",
        "\"line\nbreak\"", "{} {}", "[1] x", "// c\n1", "/* c */ 1", "{\"a\":1,\"a\":2}", "1e999", "[1 2]"})
    void rejectsMalformedJson(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(text));
        assertTrue(e.getMessage().contains("offset") || e.getMessage().contains("overflows"), e.getMessage());
    }

    @Test
    void rejectsUnpairedSurrogateCharacters() {
        assertThrows(IllegalArgumentException.class, () -> Json.parse("\"\uD83D\""));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("\"\uDC0B\""));
    }

    @Test
    void duplicateKeyIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Json.parse("{\"w\": 1, \"w\": 2}"));
        assertTrue(e.getMessage().contains("duplicate key \"w\""), e.getMessage());
    }

    @Test
    void limitsNesting() {
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        Json.parse(ok);
        String deep = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(deep));
        assertTrue(e.getMessage().contains("nesting"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[".repeat(100_000)));
    }

    @Test
    void writesCompactEscapedJsonThatParsesBack() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "q\"b\\n\n t\t c\u0001 \u00e9 \uD83D\uDC0B /");
        BigInteger u64Max = BigInteger.TWO.pow(64).subtract(BigInteger.ONE);
        m.put("l", Arrays.asList(1, -2L, u64Max, 0.5, true, null));
        m.put("e", Map.of());
        String text = Json.write(m);
        assertEquals("{\"s\":\"q\\\"b\\\\n\\n t\\t c\\u0001 \u00e9 \uD83D\uDC0B /\",\"l\":[1,-2,"
                + "18446744073709551615,0.5,true,null],\"e\":{}}", text);
        Map<String, Object> back = new LinkedHashMap<>(m);
        back.put("l", Arrays.asList(1L, -2L, u64Max, 0.5, true, null));
        assertEquals(back, Json.parse(text));
        for (int c = 0; c < 0x20; c++) {
            String s = String.valueOf((char) c);
            assertEquals(s, Json.parse(Json.write(s)), "control character " + c);
        }
    }

    @Test
    void writerRejectsWhatJsonCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> Json.write("\uD83D"));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of(1, 2)));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }
}
