package io.jembed.io.wordvectors;

import ch.randelshofer.fastdoubleparser.JavaFloatParser;
import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.io.Progress;
import io.jembed.internal.memory.Memory;
import io.jembed.io.MalformedFileException;
import io.jembed.io.ReadOptions;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Parses word vectors in text form, one {@code word v1 ... vD} line per word: word2vec text and fastText {@code .vec}
 * (a {@code "V D"} header line first) and GloVe (no header; D from the first line).
 *
 * <p>Two passes over parts of the file, in parallel: the first counts the lines of each part (so every part knows
 * its first row, and the table is allocated once at its exact size, after checking that the file is big enough to
 * hold it); the second parses. Floats are parsed by fastdoubleparser straight from the bytes. A line's last D fields
 * are its vector and everything before them its word, so words containing spaces (as in GloVe's Common Crawl
 * vectors) load. Words must be valid UTF-8 and unique; values must be finite unless allowed.
 *
 * <p>Speed: the parse reads each common line once, left to right (word, D fields, newline), finding spaces and
 * newlines eight bytes at a time; any other line (a word with spaces, a blank line, anything wrong) is parsed again by
 * the right-to-left rule above, which also reports every error, so both give the same result on every line. With a
 * header and one thread the counting pass is skipped, and the scan for line ends is part of the parse.
 */
final class TextVectorParser {
    private static final int PART_BYTES = 32 << 20;
    private static final int BLOCK_BYTES = 1 << 20;
    /** The longest line accepted; a file without newlines is refused rather than buffered whole. */
    static final int MAX_LINE_BYTES = 64 << 20;

    private final FileChannel channel;
    private final String source;
    private final ReadOptions options;
    private final long size;

    private TextVectorParser(FileChannel channel, String source, ReadOptions options) throws IOException {
        this.channel = channel;
        this.source = source;
        this.options = options;
        this.size = channel.size();
    }

    static WordVectors load(Path file, boolean header, ReadOptions options) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return new TextVectorParser(channel, file.toString(), options).parse(header);
        }
    }

    /** A byte range of whole lines, its line counts (pass 1), and its words (pass 2). */
    private static final class Part {
        final long start;
        final long end;
        long lines;          // newline-separated lines, blank ones included (for line numbers)
        long vectors;        // non-blank lines
        long firstLine;      // 1-based number of its first line in the file
        long firstRow;
        long parsed;         // vectors parsed (pass 2)
        String[] words;

        Part(long start, long end) {
            this.start = start;
            this.end = end;
        }
    }

    /** GloVe's Common Crawl files have words with spaces; word2vec and fastText words never do. */
    private boolean wordsMayHaveSpaces;

    private WordVectors parse(boolean hasHeader) throws IOException {
        wordsMayHaveSpaces = !hasHeader;
        long dataStart = 0;
        long declaredCount = -1;
        int dim;
        long firstLine = 1;
        if (hasHeader) {
            byte[] line = firstLine(0);
            String text = new String(line, StandardCharsets.ISO_8859_1).trim();
            String[] fields = text.split("\\s+");
            if (fields.length != 2) {
                throw new MalformedFileException(source, "the first line must be \"<count> <dimension>\", found \""
                        + abbreviate(text) + "\"");
            }
            declaredCount = parseCount(fields[0], "vector count");
            dim = (int) Math.min(parseCount(fields[1], "dimension"), Integer.MAX_VALUE);
            if (dim == 0 || dim == Integer.MAX_VALUE) {
                throw new MalformedFileException(source, "dimension " + fields[1] + " must be in [1, "
                        + (Integer.MAX_VALUE - 1) + "]");
            }
            dataStart = line.length + 1;
            firstLine = 2;
        } else {
            byte[] line = firstLine(0);
            int fields = 0;
            boolean inField = false;
            for (byte b : line) {
                boolean space = b == ' ' || b == '\t' || b == '\r';
                if (!space && !inField) {
                    fields++;
                }
                inField = !space;
            }
            if (fields < 2) {
                throw new MalformedFileException(source, "line 1 must be \"<word> <v1> ... <vD>\", found "
                        + fields + " field(s)");
            }
            dim = fields - 1;
        }
        List<Part> parts = split(dataStart);
        Progress progress = new Progress(options.progress(), 2 * Math.max(0, size - dataStart));
        int threads = Math.max(1, Math.min(options.threads(), parts.size()));
        ExecutorService pool = threads == 1 ? null : Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "jembed-text-vectors");
            t.setDaemon(true);
            return t;
        });
        try {
            // One thread and a header: the header gives the size, so the counting pass is skipped and the parse
            // checks the count instead (a sixth of the time on 300-dimensional vectors).
            boolean onePass = pool == null && declaredCount >= 0;
            if (onePass) {
                parts = List.of(new Part(dataStart, Math.max(dataStart, size)));
                parts.get(0).firstLine = firstLine;
                parts.get(0).vectors = declaredCount;
                progress = new Progress(options.progress(), size - dataStart);
            } else {
                Progress counting = progress;
                run(pool, parts, part -> count(part, counting));
            }
            long vectors = 0;
            long line = firstLine;
            for (Part part : parts) {
                part.firstRow = vectors;
                part.firstLine = line;
                vectors += part.vectors;
                line += part.lines;
            }
            if (!onePass && declaredCount >= 0 && declaredCount != vectors) {
                throw new MalformedFileException(source, "the header promises " + declaredCount + " vectors but the "
                        + "file has " + vectors + (vectors < declaredCount ? " (truncated)" : ""));
            }
            if (vectors > Integer.MAX_VALUE - 8) {
                throw new MalformedFileException(source, vectors + " vectors are more than a vocabulary holds ("
                        + (Integer.MAX_VALUE - 8) + ")");
            }
            // Each value takes at least two bytes ("0 "), so a file smaller than that cannot be what it claims.
            if (vectors > Math.max(0, size - dataStart) / (2L * dim)) {
                throw new MalformedFileException(source, vectors + " vectors of dimension " + dim + " need at least "
                        + (2L * dim) + " bytes of text each, the file has " + (size - dataStart));
            }
            Tensor table = Torch.empty(DType.FLOAT32, vectors, dim);
            try {
                Memory memory = TensorInternals.memory(table);
                Progress parsing = progress;
                run(pool, parts, part -> parsePart(part, dim, memory, parsing));
                if (onePass && parts.get(0).parsed != declaredCount) {
                    throw new MalformedFileException(source, "the header promises " + declaredCount + " vectors but "
                            + "the file has " + parts.get(0).parsed + " (truncated)");
                }
                List<String> words = new ArrayList<>((int) vectors);
                for (Part part : parts) {
                    words.addAll(Arrays.asList(part.words));
                }
                checkUnique(words, parts);
                progress.finish();
                return new WordVectors(words, table);
            } catch (IOException | RuntimeException | Error e) {
                table.close();
                throw e;
            }
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
        }
    }

    private long parseCount(String text, String what) throws MalformedFileException {
        try {
            long value = Long.parseLong(text);
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new MalformedFileException(source, "the header's " + what + " \"" + abbreviate(text)
                + "\" is not a non-negative integer");
    }

    /** The first line from {@code position} (without its newline), at most MAX_LINE_BYTES. */
    private byte[] firstLine(long position) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(size - position, 1 << 16));
        int cap = MAX_LINE_BYTES;
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        long at = position;
        while (at < size) {
            buffer.clear();
            int n = channel.read(buffer, at);
            if (n <= 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                if (buffer.get(i) == '\n') {
                    line.write(buffer.array(), 0, i);
                    return line.toByteArray();
                }
            }
            line.write(buffer.array(), 0, n);
            at += n;
            if (line.size() > cap) {
                throw new MalformedFileException(source, "line 1 is longer than " + cap + " bytes");
            }
        }
        return line.toByteArray();
    }

    /** Cuts [dataStart, size) into parts of about PART_BYTES, each ending just after a newline (or at the end). */
    private List<Part> split(long dataStart) throws IOException {
        List<Part> parts = new ArrayList<>();
        long start = dataStart;
        ByteBuffer probe = ByteBuffer.allocate(1 << 16);
        while (start < size) {
            long end = Math.min(size, start + PART_BYTES);
            if (end < size) {
                long at = end;
                long limit = Math.min(size, end + MAX_LINE_BYTES);
                boolean found = false;
                while (!found && at < limit) {
                    probe.clear();
                    int n = channel.read(probe, at);
                    if (n <= 0) {
                        break;
                    }
                    for (int i = 0; i < n; i++) {
                        if (probe.get(i) == '\n') {
                            at += i + 1;
                            found = true;
                            break;
                        }
                    }
                    if (!found) {
                        at += n;
                    }
                }
                if (!found && at < size) {
                    throw new MalformedFileException(source, "a line near byte " + end + " is longer than "
                            + MAX_LINE_BYTES + " bytes");
                }
                end = Math.min(at, size);
            }
            parts.add(new Part(start, end));
            start = end;
        }
        if (parts.isEmpty()) {
            parts.add(new Part(dataStart, dataStart));
        }
        return parts;
    }

    @FunctionalInterface
    private interface PartTask {
        void run(Part part) throws IOException;
    }

    /** Runs a task on every part; the failure of the earliest failing part is thrown (the same one every run). */
    private static void run(ExecutorService pool, List<Part> parts, PartTask task) throws IOException {
        if (pool == null) {
            for (Part part : parts) {
                task.run(part);
            }
            return;
        }
        List<Future<?>> futures = new ArrayList<>();
        for (Part part : parts) {
            futures.add(pool.submit(() -> {
                task.run(part);
                return null;
            }));
        }
        Throwable first = null;
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (first == null) {
                    first = e.getCause();
                    futures.forEach(other -> other.cancel(true));
                }
            } catch (java.util.concurrent.CancellationException e) {
                // cancelled after an earlier part failed
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while loading vectors");
            }
        }
        if (first instanceof IOException) {
            throw (IOException) first;
        }
        if (first instanceof RuntimeException) {
            throw (RuntimeException) first;
        }
        if (first instanceof Error) {
            throw (Error) first;
        }
    }

    /**
     * Reads a part block by block into one buffer, handing {@code sink} the filled bytes; the sink consumes whole
     * lines and returns how many bytes it consumed, and the rest (a line cut by the block's end) moves to the front
     * for the next block. On the last call ({@code last}, the part read) the sink consumes everything. The buffer has
     * {@link #PAD} spare bytes after its capacity, so the sink may write a sentinel newline just past the data and
     * read eight bytes at a time up to that sentinel.
     */
    private void blocks(Part part, BlockSink sink, Progress progress) throws IOException {
        int capacity = (int) Math.min(BLOCK_BYTES, Math.max(1, part.end - part.start));
        byte[] buffer = new byte[capacity + PAD];
        int filled = 0;
        long at = part.start;
        while (true) {
            if (filled == capacity) {
                if (capacity >= MAX_LINE_BYTES) {
                    throw new MalformedFileException(source, "a line after byte " + (at - filled)
                            + " is longer than " + MAX_LINE_BYTES + " bytes");
                }
                capacity = Math.min(MAX_LINE_BYTES, capacity * 2);
                buffer = Arrays.copyOf(buffer, capacity + PAD);
            }
            int n = at < part.end ? channel.read(ByteBuffer.wrap(buffer, filled,
                    (int) Math.min(capacity - filled, part.end - at)), at) : -1;
            if (n < 0 && at < part.end) {
                throw new MalformedFileException(source, "truncated while reading: the file shrank to " + at
                        + " bytes");
            }
            boolean last = n < 0;
            if (n > 0) {
                at += n;
                filled += n;
                progress.add(n);
            }
            int consumed = sink.consume(buffer, filled, last);
            if (last) {
                return;
            }
            System.arraycopy(buffer, consumed, buffer, 0, filled - consumed);
            filled -= consumed;
        }
    }

    @FunctionalInterface
    private interface BlockSink {
        int consume(byte[] buffer, int filled, boolean last) throws IOException;
    }

    /** Spare bytes after a block buffer's data: a sentinel newline and the 8-byte reads that may pass it. */
    private static final int PAD = 16;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;
    private static final long LOW_BITS = 0x7f7f7f7f7f7f7f7fL;
    private static final long NEWLINES = 0x0a0a0a0a0a0a0a0aL;
    private static final long BANGS = 0x2121212121212121L;   // '!', the first byte above ' '

    /**
     * The index of the first byte at or after {@code i} that is at most ' ' (space, tab, newline, other controls),
     * eight bytes at a time; the caller knows there is one (a newline) no more than PAD - 8 bytes before the buffer's
     * end. In {@code (x - 0x21..) & ~x & 0x80..} a byte's high bit is set when the byte is below 0x21; a borrow can
     * also set it in bytes above the first such byte, never below, so the lowest set bit is exact.
     */
    private static int nextSpaceOrControl(byte[] bytes, int i) {
        while (true) {
            long x = (long) LONGS.get(bytes, i);
            long hits = (x - BANGS) & ~x & HIGH_BITS;
            if (hits != 0) {
                return i + (Long.numberOfTrailingZeros(hits) >>> 3);
            }
            i += 8;
        }
    }

    /** The index of the first ' ', '\t' or '\n' at or after {@code i} (one exists, as for nextSpaceOrControl). */
    private static int nextSeparator(byte[] bytes, int i) {
        while (true) {
            i = nextSpaceOrControl(bytes, i);
            byte b = bytes[i];
            if (b == ' ' || b == '\n' || b == '\t') {
                return i;
            }
            i++;   // "\r" or another control byte inside a field: part of it, as in the general rule
        }
    }

    /** The newline mask of eight bytes: the high bit of each byte that is '\n', exactly (no carries between bytes). */
    private static long newlineBits(long x) {
        long t = x ^ NEWLINES;
        return ~(((t & LOW_BITS) + LOW_BITS) | t) & HIGH_BITS;
    }

    /** The index of the first '\n' at or after {@code i} (one exists, as for nextSpaceOrControl). */
    private static int nextNewline(byte[] bytes, int i) {
        while (true) {
            long hits = newlineBits((long) LONGS.get(bytes, i));
            if (hits != 0) {
                return i + (Long.numberOfTrailingZeros(hits) >>> 3);
            }
            i += 8;
        }
    }

    private static boolean blank(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if ((bytes[i] & 0xff) > ' ') {
                return false;
            }
        }
        return true;
    }

    private void count(Part part, Progress progress) throws IOException {
        blocks(part, (bytes, filled, last) -> {
            int lineStart = 0;
            int i = 0;
            for (; i + 8 <= filled; i += 8) {
                long hits = newlineBits((long) LONGS.get(bytes, i));
                while (hits != 0) {
                    int newline = i + (Long.numberOfTrailingZeros(hits) >>> 3);
                    countLine(part, bytes, lineStart, newline);
                    lineStart = newline + 1;
                    hits &= hits - 1;
                }
            }
            for (; i < filled; i++) {
                if (bytes[i] == '\n') {
                    countLine(part, bytes, lineStart, i);
                    lineStart = i + 1;
                }
            }
            if (last && lineStart < filled) {
                countLine(part, bytes, lineStart, filled);
                lineStart = filled;
            }
            return lineStart;
        }, progress);
    }

    private static void countLine(Part part, byte[] bytes, int from, int to) {
        part.lines++;
        if (!blank(bytes, from, to)) {
            part.vectors++;
        }
    }

    private void parsePart(Part part, int dim, Memory memory, Progress progress) throws IOException {
        PartParser parser = new PartParser(part, dim, memory);
        blocks(part, parser::consume, progress);
        parser.flush();
        part.words = parser.words;
        part.parsed = parser.rows;
    }

    /** Parses the lines of one part (one thread): its rows go to the table in batches, its words to an array. */
    private final class PartParser {
        private final Part part;
        private final int dim;
        private final Memory memory;
        private final String[] words;
        private final boolean checkFinite = !options.allowNonFinite();
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        /** Rows parsed but not yet copied to the table: copying many rows at once costs less than one at a time. */
        private final float[] batch;
        private final int batchRows;
        private int batched;
        private final int[] fieldStart;
        private final int[] fieldEnd;
        private long lineNumber;
        private int rows;
        private int wordStart;
        private int wordEnd;

        PartParser(Part part, int dim, Memory memory) {
            this.part = part;
            this.dim = dim;
            this.memory = memory;
            this.words = new String[(int) part.vectors];
            this.batchRows = (int) Math.max(1, Math.min(Math.max(1, part.vectors), (64 << 10) / (4L * dim)));
            this.batch = new float[batchRows * dim];
            this.fieldStart = new int[dim];
            this.fieldEnd = new int[dim];
            this.lineNumber = part.firstLine - 1;
        }

        /** Parses the whole lines among {@code bytes[0, filled)} (all of them when {@code last}). */
        int consume(byte[] bytes, int filled, boolean last) throws IOException {
            int complete;   // the lines end before this index; the byte before it is a newline
            if (last) {
                complete = filled;
                if (filled > 0 && bytes[filled - 1] != '\n') {
                    bytes[filled] = '\n';   // the last line has no newline: a sentinel in the padding ends it
                    complete = filled + 1;
                }
            } else {
                complete = filled;
                while (complete > 0 && bytes[complete - 1] != '\n') {
                    complete--;
                }
            }
            int from = 0;
            while (from < complete) {
                lineNumber++;
                int newline = (bytes[from] & 0xff) > ' ' ? simpleLine(bytes, from) : -1;
                if (newline < 0) {
                    newline = nextNewline(bytes, from);
                    if (blank(bytes, from, newline)) {
                        from = newline + 1;
                        continue;
                    }
                    generalLine(bytes, from, newline);
                }
                addRow(bytes);
                from = newline + 1;
            }
            return Math.min(complete, filled);
        }

        /**
         * The common line, in one pass left to right: a word, then exactly {@code dim} fields separated by spaces or
         * tabs, each a number fastdoubleparser reads (finite unless allowed), then nothing but bytes <= ' '. Fills the
         * batch row and the word's bounds and returns the index of the line's newline; returns -1 for any other line,
         * which {@link #generalLine} then handles (it reports every error, and words with spaces). On the lines this
         * accepts both find the same word and fields, so the values are the same.
         */
        private int simpleLine(byte[] bytes, int from) {
            int at = nextSeparator(bytes, from + 1);
            int wordEndsAt = at;
            int base = batched * dim;
            float[] row = batch;
            for (int k = 0; k < dim; k++) {
                if (bytes[at] == '\n') {   // at is the separator after the previous field (or the word)
                    return -1;
                }
                do {
                    at++;
                } while (bytes[at] == ' ' || bytes[at] == '\t');
                if (bytes[at] == '\n') {
                    return -1;
                }
                int start = at;
                at = nextSeparator(bytes, at + 1);
                int end = at;
                if (k == dim - 1) {
                    while ((bytes[end - 1] & 0xff) <= ' ') {   // "\r" and other controls at the end of the line
                        if (--end == start) {
                            return -1;
                        }
                    }
                }
                float value;
                try {
                    value = JavaFloatParser.parseFloat(bytes, start, end - start);
                } catch (NumberFormatException e) {
                    return -1;
                }
                if (checkFinite && !Float.isFinite(value)) {
                    return -1;
                }
                row[base + k] = value;
            }
            // After the last field only bytes <= ' ' until the newline; anything else is another field.
            while (bytes[at] != '\n') {
                if ((bytes[at] & 0xff) > ' ') {
                    return -1;
                }
                at++;
            }
            wordStart = from;
            wordEnd = wordEndsAt;
            return at;
        }

        /**
         * Any non-blank line, by the general rule: its last {@code dim} fields are its vector and everything before
         * them its word (so GloVe's words with spaces load); reports what is wrong with the line.
         */
        private void generalLine(byte[] bytes, int from, int to) throws IOException {
            int end = to;
            while (end > from && (bytes[end - 1] & 0xff) <= ' ') {
                end--;   // "\r", and fastText's trailing space
            }
            // The last dim fields, right to left.
            int at = end;
            for (int k = dim - 1; k >= 0; k--) {
                int fieldEndAt = at;
                while (at > from && bytes[at - 1] != ' ' && bytes[at - 1] != '\t') {
                    at--;
                }
                if (at == fieldEndAt || at == from) {
                    throw new MalformedFileException(source, "line " + lineNumber + " has fewer than " + dim
                            + " values after its word");
                }
                fieldStart[k] = at;
                fieldEnd[k] = fieldEndAt;
                while (at > from && (bytes[at - 1] == ' ' || bytes[at - 1] == '\t')) {
                    at--;
                }
            }
            wordEnd = at;
            wordStart = from;
            while (wordStart < wordEnd && (bytes[wordStart] & 0xff) <= ' ') {
                wordStart++;
            }
            if (wordStart == wordEnd) {
                throw new MalformedFileException(source, "line " + lineNumber + " has no word before its " + dim
                        + " values");
            }
            if (!wordsMayHaveSpaces) {
                for (int i = wordStart; i < wordEnd; i++) {
                    if (bytes[i] == ' ' || bytes[i] == '\t') {
                        throw new MalformedFileException(source, "line " + lineNumber + " has more than the " + dim
                                + " values the header gives after its word");
                    }
                }
            }
            int base = batched * dim;
            for (int k = 0; k < dim; k++) {
                float value;
                try {
                    value = JavaFloatParser.parseFloat(bytes, fieldStart[k], fieldEnd[k] - fieldStart[k]);
                } catch (NumberFormatException e) {
                    value = spelledNonFinite(bytes, fieldStart[k], fieldEnd[k], lineNumber, k);
                }
                if (checkFinite && !Float.isFinite(value)) {
                    throw new MalformedFileException(source, "line " + lineNumber + " value " + (k + 1) + " is "
                            + value + " (NaN and infinities are refused; ReadOptions.allowNonFinite(true) accepts "
                            + "them)");
                }
                batch[base + k] = value;
            }
        }

        /** Takes the word of the line just parsed, and its row (already in the batch). */
        private void addRow(byte[] bytes) throws IOException {
            if (rows >= words.length) {
                throw new MalformedFileException(source, "line " + lineNumber + ": the file has more than the "
                        + words.length + " vectors its header promises");
            }
            words[rows] = word(bytes, wordStart, wordEnd);
            rows++;
            if (++batched == batchRows) {
                flush();
            }
        }

        private String word(byte[] bytes, int from, int to) throws IOException {
            boolean ascii = true;
            for (int i = from; i < to; i++) {
                ascii &= bytes[i] >= 0;
            }
            if (ascii) {
                return new String(bytes, from, to - from, StandardCharsets.ISO_8859_1);
            }
            try {
                return utf8.decode(ByteBuffer.wrap(bytes, from, to - from)).toString();
            } catch (CharacterCodingException e) {
                throw new MalformedFileException(source, "line " + lineNumber + ": the word is not valid UTF-8 ("
                        + hex(bytes, from, to) + ")");
            }
        }

        /** Copies the batched rows to the table. */
        void flush() {
            if (batched > 0) {
                long firstRow = part.firstRow + rows - batched;
                memory.copyFromArray(batch, 0, batched * dim, firstRow * 4L * dim);
                batched = 0;
            }
        }
    }

    /** Python and C spell NaN and infinity as nan, inf, -inf; Java's parser knows only NaN and Infinity. */
    private float spelledNonFinite(byte[] bytes, int from, int to, long line, int k) throws MalformedFileException {
        String text = new String(bytes, from, to - from, StandardCharsets.ISO_8859_1);
        switch (text.toLowerCase(java.util.Locale.ROOT)) {
            case "nan": case "-nan": case "+nan": return Float.NaN;
            case "inf": case "+inf": case "infinity": case "+infinity": return Float.POSITIVE_INFINITY;
            case "-inf": case "-infinity": return Float.NEGATIVE_INFINITY;
            default:
                throw new MalformedFileException(source, "line " + line + " value " + (k + 1) + " \""
                        + abbreviate(text) + "\" is not a number");
        }
    }

    private void checkUnique(List<String> words, List<Part> parts) throws MalformedFileException {
        Map<String, Integer> seen = new HashMap<>(words.size() * 2);
        for (int i = 0; i < words.size(); i++) {
            Integer before = seen.putIfAbsent(words.get(i), i);
            if (before != null) {
                throw new MalformedFileException(source, "duplicate word '" + abbreviate(words.get(i))
                        + "' (vectors " + before + " and " + i + ", counting from 0)");
            }
        }
    }

    static String hex(byte[] bytes, int from, int to) {
        StringBuilder out = new StringBuilder();
        for (int i = from; i < Math.min(to, from + 16); i++) {
            out.append(String.format("%02x", bytes[i] & 0xff));
        }
        return out.append(to - from > 16 ? "..." : "").toString();
    }

    static String abbreviate(String text) {
        return text.length() > 60 ? text.substring(0, 60) + "..." : text;
    }
}
