package io.jembed.io.safetensors;

import io.jembed.internal.io.Json;
import io.jembed.io.MalformedFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The parsed and validated header of a safetensors file: an 8-byte little-endian length N, then N bytes of UTF-8
 * JSON mapping tensor names to {@code {"dtype", "shape", "data_offsets"}} and an optional {@code "__metadata__"} map of
 * strings, then the byte buffer. Parsing reads only the first 8 + N bytes, so it costs the same for any file size.
 *
 * <p>Everything the format's specification requires is checked, so that the byte ranges it reports can be mapped or
 * read without further checks: N is at most 100,000,000 (the reference implementation's limit) and fits in the file;
 * the JSON is valid UTF-8, starts with <code>'&#123;'</code>, has no duplicate keys; every dtype is known; every
 * shape's element count times the item size equals its byte range, without overflow; the byte ranges, sorted, cover
 * the whole buffer with neither overlap nor hole.
 *
 * <p>PyTorch equivalent: the header half of {@code safetensors.safe_open} (Rust {@code SafeTensors::read_metadata}).
 * Immutable and thread-safe.
 */
public final class SafetensorsHeader {
    /** The reference implementation's limit on N. */
    public static final long MAX_HEADER_LENGTH = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    private final String source;
    private final long headerLength;
    private final Map<String, String> metadata;
    private final Map<String, SafetensorsTensorInfo> byName;
    private final List<SafetensorsTensorInfo> byOffset;

    private SafetensorsHeader(String source, long headerLength, Map<String, String> metadata,
                              Map<String, SafetensorsTensorInfo> byName, List<SafetensorsTensorInfo> byOffset) {
        this.source = source;
        this.headerLength = headerLength;
        this.metadata = metadata;
        this.byName = byName;
        this.byOffset = byOffset;
    }

    /**
     * Reads and validates the header with positional reads of {@code channel} (the channel's position is not used);
     * {@code source} names the file in messages.
     *
     * @throws MalformedFileException if the header is malformed or does not fit the file
     */
    public static SafetensorsHeader read(FileChannel channel, String source) throws IOException {
        long fileSize = channel.size();
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readAt(channel, prefix, 0, source, "the 8-byte header length");
        long n = checkedHeaderLength(prefix.getLong(0), fileSize, source);
        ByteBuffer json = ByteBuffer.allocate((int) n);
        readAt(channel, json, 8, source, "the " + n + "-byte header");
        json.flip();
        return parseJson(json, n, fileSize, source);
    }

    /**
     * Parses the header from a buffer holding at least the file's first 8 + N bytes (a mapped region, say), read with
     * absolute gets only. {@code fileSize} is the whole file's size, against which offsets are checked.
     *
     * @throws MalformedFileException if the header is malformed or does not fit the file
     */
    public static SafetensorsHeader parse(ByteBuffer fileStart, long fileSize, String source)
            throws MalformedFileException {
        if (fileStart.limit() < 8 || fileSize < 8) {
            throw new MalformedFileException(source, "truncated: a safetensors file starts with an 8-byte header "
                    + "length, but the file has " + Math.min(fileSize, fileStart.limit()) + " bytes");
        }
        long raw = fileStart.duplicate().order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        long n = checkedHeaderLength(raw, fileSize, source);
        if (fileStart.limit() < 8 + n) {
            throw new IllegalArgumentException("the buffer holds " + fileStart.limit() + " bytes of " + source
                    + " but its header needs " + (8 + n));
        }
        ByteBuffer json = fileStart.duplicate();
        json.limit((int) (8 + n)).position(8);
        return parseJson(json.slice(), n, fileSize, source);
    }

    private static void readAt(FileChannel channel, ByteBuffer buffer, long position, String source, String what)
            throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, at);
            if (read < 0) {
                throw new MalformedFileException(source, "truncated: the file ends at byte " + at + " inside "
                        + what);
            }
            at += read;
        }
    }

    private static long checkedHeaderLength(long n, long fileSize, String source) throws MalformedFileException {
        if (fileSize < 8) {
            throw new MalformedFileException(source, "truncated: a safetensors file starts with an 8-byte header "
                    + "length, but the file has " + fileSize + " bytes");
        }
        if (n < 0 || n > MAX_HEADER_LENGTH) {
            throw new MalformedFileException(source, "header length " + Long.toUnsignedString(n)
                    + " exceeds the limit of " + MAX_HEADER_LENGTH + " bytes");
        }
        if (n > fileSize - 8) {
            throw new MalformedFileException(source, "header length " + n + " is longer than the file allows ("
                    + (fileSize - 8) + " bytes after the length)");
        }
        if (n < 2) {
            throw new MalformedFileException(source, "header length " + n + " is too short for a JSON object");
        }
        return n;
    }

    private static SafetensorsHeader parseJson(ByteBuffer bytes, long n, long fileSize, String source)
            throws MalformedFileException {
        String text;
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes);
            text = chars.toString();
        } catch (CharacterCodingException e) {
            throw new MalformedFileException(source, "the header is not valid UTF-8", e);
        }
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw new MalformedFileException(source, "the header must start with '{'");
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.JsonException e) {
            throw new MalformedFileException(source, "header: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map)) {
            throw new MalformedFileException(source, "the header is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataLength = fileSize - dataStart;
        Map<String, String> metadata = Collections.emptyMap();
        Map<String, SafetensorsTensorInfo> byName = new LinkedHashMap<>();
        @SuppressWarnings("unchecked")
        Map<String, Object> entries = (Map<String, Object>) parsed;
        for (Map.Entry<String, Object> entry : entries.entrySet()) {
            String name = entry.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = metadata(entry.getValue(), source);
            } else {
                byName.put(name, tensorInfo(name, entry.getValue(), dataStart, source));
            }
        }
        List<SafetensorsTensorInfo> byOffset = new ArrayList<>(byName.values());
        byOffset.sort(Comparator.comparingLong(SafetensorsTensorInfo::begin)
                .thenComparingLong(SafetensorsTensorInfo::end));
        long expected = 0;
        SafetensorsTensorInfo previous = null;
        for (SafetensorsTensorInfo info : byOffset) {
            if (info.begin() != expected) {
                String problem = info.begin() < expected
                        ? "tensor '" + info.name() + "' at [" + info.begin() + ", " + info.end() + ") overlaps tensor '"
                          + previous.name() + "' at [" + previous.begin() + ", " + previous.end() + ")"
                        : "the byte buffer has a hole: [" + expected + ", " + info.begin() + ") belongs to no tensor "
                          + "(before tensor '" + info.name() + "')";
                throw new MalformedFileException(source, problem);
            }
            if (info.end() > dataLength) {
                throw new MalformedFileException(source, "tensor '" + info.name() + "' data_offsets [" + info.begin()
                        + ", " + info.end() + ") point past the end of the file (the byte buffer has " + dataLength
                        + " bytes)");
            }
            expected = info.end();
            previous = info;
        }
        if (expected != dataLength) {
            throw new MalformedFileException(source, "the byte buffer has " + dataLength + " bytes but the tensors "
                    + "cover only " + expected + " (trailing bytes, or a file longer than its header says)");
        }
        return new SafetensorsHeader(source, n, metadata, Collections.unmodifiableMap(byName),
                Collections.unmodifiableList(byOffset));
    }

    private static Map<String, String> metadata(Object value, String source) throws MalformedFileException {
        if (!(value instanceof Map)) {
            throw new MalformedFileException(source, "\"__metadata__\" must be an object of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
            if (!(e.getValue() instanceof String)) {
                throw new MalformedFileException(source, "\"__metadata__\" value of \"" + e.getKey()
                        + "\" must be a string, found " + describe(e.getValue()));
            }
            out.put((String) e.getKey(), (String) e.getValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static SafetensorsTensorInfo tensorInfo(String name, Object value, long dataStart, String source)
            throws MalformedFileException {
        String where = "tensor '" + name + "'";
        if (!(value instanceof Map)) {
            throw new MalformedFileException(source, where + " must be an object with dtype, shape and data_offsets");
        }
        Map<?, ?> fields = (Map<?, ?>) value;
        Object dtypeName = fields.get("dtype");
        if (!(dtypeName instanceof String)) {
            throw new MalformedFileException(source, where + " has no string \"dtype\"");
        }
        SafetensorsDType dtype;
        try {
            dtype = SafetensorsDType.valueOf((String) dtypeName);
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(source, where + " has unknown dtype \"" + dtypeName + "\" (known: "
                    + Arrays.toString(SafetensorsDType.values()) + ")");
        }
        long[] shape = longs(fields.get("shape"), where + " \"shape\"", -1, source);
        long[] offsets = longs(fields.get("data_offsets"), where + " \"data_offsets\"", 2, source);
        long numel = 1;
        for (long size : shape) {
            if (size < 0) {
                throw new MalformedFileException(source, where + " has a negative size in shape "
                        + Arrays.toString(shape));
            }
        }
        boolean empty = Arrays.stream(shape).anyMatch(s -> s == 0);
        long bytes;
        try {
            for (long size : shape) {
                numel = Math.multiplyExact(numel, size);
            }
            bytes = Math.multiplyExact(numel, (long) dtype.itemSize());
        } catch (ArithmeticException e) {
            if (!empty) {
                throw new MalformedFileException(source, where + " shape " + Arrays.toString(shape)
                        + " overflows: its size in bytes exceeds " + Long.MAX_VALUE);
            }
            numel = 0;
            bytes = 0;
        }
        if (empty) {
            numel = 0;
            bytes = 0;
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin) {
            throw new MalformedFileException(source, where + " has invalid data_offsets [" + begin + ", " + end + "]");
        }
        if (end - begin != bytes) {
            throw new MalformedFileException(source, where + " of dtype " + dtype + " and shape "
                    + Arrays.toString(shape) + " needs " + bytes + " bytes but data_offsets [" + begin + ", " + end
                    + ") hold " + (end - begin));
        }
        return new SafetensorsTensorInfo(name, dtype, shape, numel, begin, end, dataStart);
    }

    private static long[] longs(Object value, String what, int length, String source) throws MalformedFileException {
        if (!(value instanceof List)) {
            throw new MalformedFileException(source, what + " must be an array of integers, found " + describe(value));
        }
        List<?> list = (List<?>) value;
        if (length >= 0 && list.size() != length) {
            throw new MalformedFileException(source, what + " must have " + length + " integers, found "
                    + list.size());
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            Object item = list.get(i);
            if (!(item instanceof Long)) {
                throw new MalformedFileException(source, what + " must hold integers, found " + describe(item));
            }
            out[i] = (Long) item;
        }
        return out;
    }

    private static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        String text = value instanceof String ? "\"" + value + "\"" : String.valueOf(value);
        return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }

    /** The file's name as given to the parser. */
    public String source() {
        return source;
    }

    /** N: the length of the JSON header in bytes. */
    public long headerLength() {
        return headerLength;
    }

    /** 8 + N: where the byte buffer starts in the file. */
    public long dataStart() {
        return 8 + headerLength;
    }

    /** The {@code "__metadata__"} map, empty when the file has none. Unmodifiable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensors in the order of their bytes in the file. */
    public List<SafetensorsTensorInfo> tensors() {
        return byOffset;
    }

    /** The tensor names in header order. PyTorch equivalent: {@code safe_open(...).keys()} (which sorts them). */
    public Set<String> names() {
        return byName.keySet();
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /**
     * @throws IllegalArgumentException if the file has no tensor of that name (the message lists some that it has)
     */
    public SafetensorsTensorInfo tensor(String name) {
        SafetensorsTensorInfo info = byName.get(name);
        if (info == null) {
            List<String> known = new ArrayList<>(byName.keySet());
            String list = known.size() <= 10 ? known.toString()
                    : known.subList(0, 10) + " and " + (known.size() - 10) + " more";
            throw new IllegalArgumentException(source + " has no tensor named '" + name + "'; it has " + list);
        }
        return info;
    }
}
