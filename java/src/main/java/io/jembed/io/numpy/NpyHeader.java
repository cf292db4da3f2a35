package io.jembed.io.numpy;

import io.jembed.DType;
import io.jembed.internal.io.FileElement;
import io.jembed.io.MalformedFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated header of a NumPy {@code .npy} file (format versions 1.0, 2.0 and 3.0): the magic string,
 * the version, a little-endian header length, then a Python dict literal giving {@code descr}, {@code fortran_order}
 * and {@code shape}. Parsing reads only the header, so it costs the same for any file size, and checks that the data
 * it describes fills the rest of the file exactly (so a mapping of {@code [dataOffset(), dataOffset() + dataLength())}
 * is always inside the file).
 *
 * <p>dtypes: float16 ({@code f2}, widened to float32 when loaded), float32, float64, int32, int64, in either byte
 * order; others are refused naming the dtype. Headers longer than NumPy's own limit (10,000 bytes) are refused.
 *
 * <p>PyTorch equivalent: the header half of {@code numpy.load} ({@code numpy.lib.format.read_array_header_1_0/2_0}).
 * Immutable and thread-safe.
 */
public final class NpyHeader {
    /** numpy.lib.format's default {@code max_header_size}. */
    public static final int MAX_HEADER_LENGTH = 10_000;
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    private final String source;
    private final int majorVersion;
    private final String descr;
    private final FileElement element;
    private final ByteOrder byteOrder;
    private final boolean fortranOrder;
    private final long[] shape;
    private final long numel;
    private final long dataOffset;

    private NpyHeader(String source, int majorVersion, String descr, FileElement element, ByteOrder byteOrder,
                      boolean fortranOrder, long[] shape, long numel, long dataOffset) {
        this.source = source;
        this.majorVersion = majorVersion;
        this.descr = descr;
        this.element = element;
        this.byteOrder = byteOrder;
        this.fortranOrder = fortranOrder;
        this.shape = shape;
        this.numel = numel;
        this.dataOffset = dataOffset;
    }

    /** Reads and validates the header with positional reads of {@code channel}. */
    public static NpyHeader read(FileChannel channel, String source) throws IOException {
        long size = channel.size();
        ByteBuffer prefix = ByteBuffer.allocate((int) Math.min(size, 12 + MAX_HEADER_LENGTH));
        while (prefix.hasRemaining()) {
            if (channel.read(prefix, prefix.position()) < 0) {
                break;
            }
        }
        prefix.flip();
        return parse(prefix, size, source);
    }

    /**
     * Parses the header from a buffer holding the file's first bytes (at least the whole header; a mapped region of
     * the file, say), with absolute gets only; {@code fileSize} is the whole file's size.
     */
    public static NpyHeader parse(ByteBuffer fileStart, long fileSize, String source) throws MalformedFileException {
        ByteBuffer b = fileStart.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int available = (int) Math.min(b.limit(), fileSize);
        if (available < 10) {
            throw new MalformedFileException(source, "truncated: an .npy file has at least 10 header bytes, this one "
                    + fileSize);
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (b.get(i) != MAGIC[i]) {
                throw new MalformedFileException(source, "not an .npy file (no \\x93NUMPY magic string)");
            }
        }
        int major = b.get(6) & 0xff;
        int lengthBytes;
        long headerLength;
        if (major == 1) {
            lengthBytes = 2;
            headerLength = b.getShort(8) & 0xffff;
        } else if (major == 2 || major == 3) {
            lengthBytes = 4;
            if (available < 12) {
                throw new MalformedFileException(source, "truncated inside the header length");
            }
            headerLength = b.getInt(8) & 0xffffffffL;
        } else {
            throw new MalformedFileException(source, "unsupported .npy format version " + major + "."
                    + (b.get(7) & 0xff) + " (jembed reads 1.0, 2.0 and 3.0)");
        }
        long start = 8 + lengthBytes;
        if (headerLength > MAX_HEADER_LENGTH) {
            throw new MalformedFileException(source, "header length " + headerLength + " exceeds NumPy's limit of "
                    + MAX_HEADER_LENGTH + " bytes");
        }
        if (start + headerLength > fileSize) {
            throw new MalformedFileException(source, "header length " + headerLength + " is longer than the file ("
                    + fileSize + " bytes)");
        }
        if (start + headerLength > b.limit()) {
            throw new IllegalArgumentException("the buffer holds " + b.limit() + " bytes of " + source
                    + " but its header needs " + (start + headerLength));
        }
        byte[] bytes = new byte[(int) headerLength];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = b.get((int) start + i);
        }
        Charset charset = major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1;
        String text;
        try {
            text = charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedFileException(source, "the header is not valid " + charset, e);
        }
        Map<String, Object> dict = new PythonLiteral(text, source).dict();
        Object descrValue = dict.get("descr");
        Object fortranValue = dict.get("fortran_order");
        Object shapeValue = dict.get("shape");
        if (!(descrValue instanceof String) || !(fortranValue instanceof Boolean) || !(shapeValue instanceof List)
                || dict.size() != 3) {
            throw new MalformedFileException(source, "the header must be a dict of exactly 'descr' (a string), "
                    + "'fortran_order' (a bool) and 'shape' (a tuple of ints), found " + abbreviate(text));
        }
        String descr = (String) descrValue;
        FileElement element = element(descr, source);
        ByteOrder order = order(descr, element);
        List<?> dims = (List<?>) shapeValue;
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long) || (Long) dims.get(i) < 0) {
                throw new MalformedFileException(source, "shape " + dims + " must hold non-negative integers");
            }
            shape[i] = (Long) dims.get(i);
        }
        long numel = 1;
        boolean empty = Arrays.stream(shape).anyMatch(s -> s == 0);
        long dataLength;
        try {
            for (long s : shape) {
                numel = Math.multiplyExact(numel, s);
            }
            dataLength = Math.multiplyExact(numel, (long) element.size());
        } catch (ArithmeticException e) {
            if (!empty) {
                throw new MalformedFileException(source, "shape " + Arrays.toString(shape) + " of " + descr
                        + " overflows: its size in bytes exceeds " + Long.MAX_VALUE);
            }
            numel = 0;
            dataLength = 0;
        }
        if (empty) {
            numel = 0;
            dataLength = 0;
        }
        long dataOffset = start + headerLength;
        long actual = fileSize - dataOffset;
        if (actual != dataLength) {
            throw new MalformedFileException(source, "shape " + Arrays.toString(shape) + " of " + descr + " needs "
                    + dataLength + " bytes of data but the file has " + actual + (actual < dataLength
                    ? " (truncated)" : " (trailing bytes)"));
        }
        return new NpyHeader(source, major, descr, element, order, (Boolean) fortranValue, shape, numel, dataOffset);
    }

    private static FileElement element(String descr, String source) throws MalformedFileException {
        if (descr.length() == 3 && "<>|=".indexOf(descr.charAt(0)) >= 0) {
            switch (descr.substring(1)) {
                case "f2": return FileElement.F16;
                case "f4": return FileElement.F32;
                case "f8": return FileElement.F64;
                case "i4": return FileElement.I32;
                case "i8": return FileElement.I64;
                default: break;
            }
        }
        throw new MalformedFileException(source, "dtype '" + descr + "' is not supported (jembed reads float16, "
                + "float32, float64, int32 and int64 in either byte order: <f2 <f4 <f8 <i4 <i8 and their > forms)");
    }

    private static ByteOrder order(String descr, FileElement element) {
        switch (descr.charAt(0)) {
            case '<': return ByteOrder.LITTLE_ENDIAN;
            case '>': return ByteOrder.BIG_ENDIAN;
            default: return ByteOrder.nativeOrder();
        }
    }

    private static String abbreviate(String text) {
        return text.length() > 120 ? text.substring(0, 120) + "..." : text.trim();
    }

    public String source() {
        return source;
    }

    /** 1, 2 or 3. */
    public int majorVersion() {
        return majorVersion;
    }

    /** The dtype as the file spells it, e.g. {@code <f4}. */
    public String descr() {
        return descr;
    }

    /** The jembed dtype the data loads as (float16 widens to float32). */
    public DType dtype() {
        return element.target();
    }

    /** Bytes per element in the file. */
    public int itemSize() {
        return element.size();
    }

    FileElement element() {
        return element;
    }

    public ByteOrder byteOrder() {
        return byteOrder;
    }

    public boolean fortranOrder() {
        return fortranOrder;
    }

    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        return numel;
    }

    /** Where the first element starts in the file. */
    public long dataOffset() {
        return dataOffset;
    }

    /** {@code numel() * itemSize()}; the file ends exactly there. */
    public long dataLength() {
        return numel * element.size();
    }

    /**
     * True when the bytes can serve as a row-major jembed table as they are: float32/float64/int32/int64 in this
     * machine's byte order and C order (or rank at most 1).
     */
    public boolean mappable() {
        return element != FileElement.F16 && byteOrder == ByteOrder.nativeOrder()
                && (!fortranOrder || shape.length <= 1);
    }

    /**
     * The small subset of Python literals an .npy header uses: a dict with string keys whose values are strings,
     * booleans, and tuples of integers. Anything else is refused.
     */
    private static final class PythonLiteral {
        private final String text;
        private final String source;
        private int pos;

        PythonLiteral(String text, String source) {
            this.text = text;
            this.source = source;
        }

        Map<String, Object> dict() throws MalformedFileException {
            skip();
            expect('{');
            Map<String, Object> map = new LinkedHashMap<>();
            while (true) {
                skip();
                if (peek() == '}') {
                    pos++;
                    break;
                }
                String key = string();
                skip();
                expect(':');
                skip();
                Object value = value();
                if (map.put(key, value) != null) {
                    throw error("duplicate key '" + key + "'");
                }
                skip();
                if (peek() == ',') {
                    pos++;
                    continue;
                }
                skip();
                expect('}');
                break;
            }
            skip();
            if (pos != text.length()) {
                throw error("unexpected text after the dict");
            }
            return map;
        }

        private Object value() throws MalformedFileException {
            char c = peek();
            if (c == '\'' || c == '"') {
                return string();
            }
            if (c == '(') {
                pos++;
                List<Long> items = new ArrayList<>();
                while (true) {
                    skip();
                    if (peek() == ')') {
                        pos++;
                        return items;
                    }
                    items.add(integer());
                    skip();
                    if (peek() == ',') {
                        pos++;
                    } else if (peek() != ')') {
                        throw error("expected ',' or ')' in a tuple");
                    }
                    if (items.size() > 64) {
                        throw error("a shape of more than 64 dimensions");
                    }
                }
            }
            if (text.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (text.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            throw error("unsupported value");
        }

        private long integer() throws MalformedFileException {
            int start = pos;
            while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
                pos++;
            }
            if (pos < text.length() && text.charAt(pos) == 'L') {
                pos++;   // Python 2's long suffix, which old numpy wrote
            }
            String digits = text.substring(start, pos).replace("L", "");
            if (digits.isEmpty()) {
                throw error("expected an integer");
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw error("integer " + digits + " is too large");
            }
        }

        private String string() throws MalformedFileException {
            char quote = peek();
            if (quote != '\'' && quote != '"') {
                throw error("expected a string");
            }
            int start = ++pos;
            while (pos < text.length() && text.charAt(pos) != quote) {
                if (text.charAt(pos) == '\\') {
                    throw error("escapes are not supported in header strings");
                }
                pos++;
            }
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            return text.substring(start, pos++);
        }

        private void skip() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }

        private char peek() throws MalformedFileException {
            if (pos >= text.length()) {
                throw error("unexpected end of the header");
            }
            return text.charAt(pos);
        }

        private void expect(char c) throws MalformedFileException {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        private MalformedFileException error(String what) {
            return new MalformedFileException(source, "header dict at character " + pos + ": " + what + " in "
                    + abbreviate(text));
        }
    }
}
