package io.jembed.vocab;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.io.AtomicFileWrite;
import io.jembed.internal.io.ElementWriter;
import io.jembed.internal.io.Json;
import io.jembed.io.MalformedFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Words and their row indices in an embedding table, with a policy for unknown words and an optional padding word.
 *
 * <p>Word {@code i} of the list is row {@code i}. An unknown word either fails the lookup (the default, as torchtext's
 * {@code Vocab} without a default index) or maps to a default index, usually that of an {@code "<unk>"} word. The
 * padding word, if set, is the word whose index is the table's {@code padding_idx}.
 *
 * <p>A vocabulary is saved with its table in safetensors metadata ({@link #toMetadata()} /
 * {@link #fromMetadata(Map, String)}) or beside it as a text file of one word per line ({@link #save} /
 * {@link #load}).
 *
 * <p>PyTorch equivalent: {@code torchtext.vocab.Vocab} ({@code vocab[word]}, {@code lookup_indices},
 * {@code lookup_token}, {@code set_default_index}, {@code get_itos}).
 *
 * <p>Immutable and thread-safe.
 */
public final class Vocabulary {
    static final String METADATA_WORDS = "jembed.vocabulary.words";
    static final String METADATA_DEFAULT = "jembed.vocabulary.default_index";
    static final String METADATA_PADDING = "jembed.vocabulary.padding_idx";

    private final List<String> words;
    private final Map<String, Integer> index;
    private final int defaultIndex;   // -1: unknown words fail
    private final int paddingIdx;     // -1: none

    private Vocabulary(List<String> words, Map<String, Integer> index, int defaultIndex, int paddingIdx) {
        this.words = words;
        this.index = index;
        this.defaultIndex = defaultIndex;
        this.paddingIdx = paddingIdx;
    }

    /**
     * A vocabulary of {@code words}, word {@code i} at index {@code i}; unknown words fail the lookup.
     *
     * <p>PyTorch equivalent: {@code torchtext.vocab.vocab(OrderedDict((w, 1) for w in words))}.
     *
     * @throws IllegalArgumentException if a word is null or repeated (naming both positions)
     */
    public static Vocabulary of(List<String> words) {
        List<String> copy = new ArrayList<>(words.size());
        Map<String, Integer> index = new HashMap<>(words.size() * 2);
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (w == null) {
                throw new IllegalArgumentException("word " + i + " is null");
            }
            Integer before = index.putIfAbsent(w, i);
            if (before != null) {
                throw new IllegalArgumentException("word '" + w + "' appears twice, at " + before + " and " + i);
            }
            copy.add(w);
        }
        return new Vocabulary(Collections.unmodifiableList(copy), index, -1, -1);
    }

    public static Vocabulary of(String... words) {
        return of(List.of(words));
    }

    /**
     * This vocabulary with unknown words mapped to the index of {@code word} (e.g. {@code "<unk>"}).
     *
     * <p>PyTorch equivalent: {@code vocab.set_default_index(vocab[word])}.
     *
     * @throws IllegalArgumentException if {@code word} is not in the vocabulary
     */
    public Vocabulary withUnknown(String word) {
        return withDefaultIndex(require(word, "unknown"));
    }

    /**
     * This vocabulary with unknown words mapped to {@code index}; -1 makes unknown words fail again.
     *
     * <p>PyTorch equivalent: {@code vocab.set_default_index(index)}.
     *
     * @throws IndexOutOfBoundsException if {@code index} is outside {@code [-1, size())}
     */
    public Vocabulary withDefaultIndex(long index) {
        if (index < -1 || index >= words.size()) {
            throw new IndexOutOfBoundsException("default index " + index + " is outside [-1, " + words.size() + ")");
        }
        return new Vocabulary(words, this.index, (int) index, paddingIdx);
    }

    /**
     * This vocabulary with {@code word} as its padding word: its index is the {@code padding_idx} of the table.
     *
     * @throws IllegalArgumentException if {@code word} is not in the vocabulary
     */
    public Vocabulary withPadding(String word) {
        return new Vocabulary(words, index, defaultIndex, require(word, "padding"));
    }

    private int require(String word, String role) {
        Integer i = index.get(word);
        if (i == null) {
            throw new IllegalArgumentException("the " + role + " word '" + word + "' is not in the vocabulary of "
                    + words.size() + " words; add it to the table and the word list first");
        }
        return i;
    }

    /** PyTorch equivalent: {@code len(vocab)}. */
    public int size() {
        return words.size();
    }

    /** The words by index (unmodifiable). PyTorch equivalent: {@code vocab.get_itos()}. */
    public List<String> words() {
        return words;
    }

    /** PyTorch equivalent: {@code word in vocab}. */
    public boolean contains(String word) {
        return index.containsKey(word);
    }

    /** The index of unknown words, or -1 when they fail. PyTorch equivalent: {@code vocab.get_default_index()}. */
    public long defaultIndex() {
        return defaultIndex;
    }

    /** The padding word's index, or null. Pass it as the embedding's {@code padding_idx}. */
    public Long paddingIdx() {
        return paddingIdx < 0 ? null : (long) paddingIdx;
    }

    /**
     * PyTorch equivalent: {@code vocab[word]}.
     *
     * @throws IllegalArgumentException if the word is unknown and there is no default index
     */
    public long indexOf(String word) {
        Integer i = index.get(word);
        if (i != null) {
            return i;
        }
        if (defaultIndex >= 0) {
            return defaultIndex;
        }
        throw new IllegalArgumentException("word '" + word + "' is not in the vocabulary of " + words.size()
                + " words and no default index is set (withUnknown / withDefaultIndex)");
    }

    /**
     * PyTorch equivalent: {@code vocab.lookup_token(index)}.
     *
     * @throws IndexOutOfBoundsException if {@code index} is outside {@code [0, size())}
     */
    public String word(long index) {
        if (index < 0 || index >= words.size()) {
            throw new IndexOutOfBoundsException("index " + index + " is outside [0, " + words.size() + ")");
        }
        return words.get((int) index);
    }

    /**
     * The indices of {@code tokens} as a 1-D int64 tensor, every token checked before the tensor is made.
     *
     * <p>PyTorch equivalent: {@code torch.tensor(vocab.lookup_indices(tokens))}.
     */
    public Tensor lookupIndices(List<String> tokens) {
        long[] ids = new long[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = indexOf(tokens.get(i));
        }
        return Torch.tensor(ids, ids.length);
    }

    public Tensor lookupIndices(String... tokens) {
        return lookupIndices(List.of(tokens));
    }

    /**
     * The indices of equally long token rows as a 2-D int64 tensor {@code (rows, length)}.
     *
     * @throws IllegalArgumentException if the rows differ in length (pad them with the padding word first)
     */
    public Tensor lookupIndices(String[][] rows) {
        int length = rows.length == 0 ? 0 : rows[0].length;
        long[] ids = new long[Math.multiplyExact(rows.length, length)];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r].length != length) {
                throw new IllegalArgumentException("row " + r + " has " + rows[r].length + " tokens, row 0 has "
                        + length + "; pad the rows to one length");
            }
            for (int c = 0; c < length; c++) {
                ids[r * length + c] = indexOf(rows[r][c]);
            }
        }
        return Torch.tensor(ids, rows.length, length);
    }

    // ---- saving ---------------------------------------------------------------------------------------------

    /** Safetensors metadata entries that carry this vocabulary; merge them into the table's metadata. */
    public Map<String, String> toMetadata() {
        Map<String, String> metadata = new LinkedHashMap<>();
        StringBuilder json = new StringBuilder(words.size() * 8).append('[');
        for (int i = 0; i < words.size(); i++) {
            json.append(i == 0 ? "" : ",").append(Json.quote(words.get(i)));
        }
        metadata.put(METADATA_WORDS, json.append(']').toString());
        if (defaultIndex >= 0) {
            metadata.put(METADATA_DEFAULT, Integer.toString(defaultIndex));
        }
        if (paddingIdx >= 0) {
            metadata.put(METADATA_PADDING, Integer.toString(paddingIdx));
        }
        return metadata;
    }

    /** Whether safetensors metadata carries a vocabulary. */
    public static boolean inMetadata(Map<String, String> metadata) {
        return metadata.containsKey(METADATA_WORDS);
    }

    /**
     * The vocabulary {@link #toMetadata()} stored; {@code source} names the file in messages.
     *
     * @throws MalformedFileException if the entries are missing or malformed
     */
    public static Vocabulary fromMetadata(Map<String, String> metadata, String source) throws MalformedFileException {
        String json = metadata.get(METADATA_WORDS);
        if (json == null) {
            throw new MalformedFileException(source, "no vocabulary in the metadata (key " + METADATA_WORDS + ")");
        }
        Object parsed;
        try {
            parsed = Json.parse(json);
        } catch (Json.JsonException e) {
            throw new MalformedFileException(source, "vocabulary: " + e.getMessage(), e);
        }
        if (!(parsed instanceof List) || ((List<?>) parsed).stream().anyMatch(w -> !(w instanceof String))) {
            throw new MalformedFileException(source, "vocabulary: " + METADATA_WORDS + " must be a JSON array of "
                    + "strings");
        }
        @SuppressWarnings("unchecked")
        List<String> words = (List<String>) parsed;
        Vocabulary v;
        try {
            v = of(words);
            String d = metadata.get(METADATA_DEFAULT);
            if (d != null) {
                v = v.withDefaultIndex(Long.parseLong(d));
            }
            String p = metadata.get(METADATA_PADDING);
            if (p != null) {
                long pad = Long.parseLong(p);
                v = v.withPadding(v.word(pad));
            }
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new MalformedFileException(source, "vocabulary: " + e.getMessage(), e);
        }
        return v;
    }

    /**
     * Writes one word per line (UTF-8), as {@code vocab.txt} files are; the unknown and padding policy is not part of
     * that format.
     *
     * @throws IllegalArgumentException if a word contains a line break
     */
    public void save(Path file) throws IOException {
        StringBuilder text = new StringBuilder(words.size() * 8);
        for (String w : words) {
            if (w.indexOf('\n') >= 0 || w.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("word '" + w + "' contains a line break");
            }
            text.append(w).append('\n');
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFileWrite.write(file, out -> ElementWriter.writeFully(out, ByteBuffer.wrap(bytes)));
    }

    /**
     * Reads one word per line (UTF-8; a trailing {@code \r} is dropped).
     *
     * @throws MalformedFileException if the file is not UTF-8 or repeats a word
     */
    public static Vocabulary load(Path file) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedFileException(file.toString(), "not valid UTF-8", e);
        }
        List<String> words = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            words.add(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
        }
        if (!words.isEmpty() && words.get(words.size() - 1).isEmpty()) {
            words.remove(words.size() - 1);
        }
        try {
            return of(words);
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(file.toString(), e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "Vocabulary(" + words.size() + " words" + (defaultIndex >= 0 ? ", unknown -> " + defaultIndex : "")
                + (paddingIdx >= 0 ? ", padding_idx=" + paddingIdx : "") + ")";
    }
}
