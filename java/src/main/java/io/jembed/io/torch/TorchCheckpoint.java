package io.jembed.io.torch;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.io.ElementReader;
import io.jembed.internal.io.FileElement;
import io.jembed.internal.io.Progress;
import io.jembed.internal.memory.Memory;
import io.jembed.io.MalformedFileException;
import io.jembed.io.ReadOptions;
import io.jembed.io.torch.RestrictedUnpickler.StorageRef;
import io.jembed.io.torch.RestrictedUnpickler.TensorRef;
import io.jembed.io.torch.RestrictedUnpickler.Tuple;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A PyTorch checkpoint ({@code torch.save}'s zip format, PyTorch 1.6 and later) loaded the way
 * {@code torch.load(path, weights_only=True, map_location="cpu")} loads it: the pickled object is interpreted by a
 * restricted unpickler that accepts only tensors, storages, {@code OrderedDict} and primitive containers, and refuses
 * every other global with a {@link MalformedFileException} naming it; nothing in the file can run code.
 *
 * <p>Tensors come out as float32 (also from float16 and bfloat16, widened), float64, int32 or int64, contiguous copies
 * of whatever view of a storage was saved. The archive is hostile input: every storage's size must match what its
 * tensors need, entries must be stored or honestly deflated (zip bombs are refused before anything is allocated),
 * and the pickle is capped at {@value #MAX_PICKLE_BYTES} bytes.
 *
 * <p>PyTorch equivalent: {@code torch.load(path, weights_only=True)}; {@link #tensors()} flattens nested dicts the way
 * {@code state_dict()} names parameters ({@code "model.embedding.weight"}).
 *
 * <p>Owns its tensors: {@link #close()} frees them. Not thread-safe while loading; reads are safe afterwards.
 */
public final class TorchCheckpoint implements AutoCloseable {
    static final int MAX_PICKLE_BYTES = 256 << 20;

    private final Object root;
    private final Map<String, Tensor> tensors;
    private final List<Tensor> owned;

    private TorchCheckpoint(Object root, Map<String, Tensor> tensors, List<Tensor> owned) {
        this.root = root;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.owned = owned;
    }

    /** PyTorch equivalent: {@code torch.load(path, weights_only=True)}. The caller closes the result. */
    public static TorchCheckpoint load(Path file) throws IOException {
        return load(file, ReadOptions.defaults());
    }

    public static TorchCheckpoint load(Path file, ReadOptions options) throws IOException {
        String source = file.toString();
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new MalformedFileException(source, "not a torch.save zip archive (" + e.getMessage() + "); "
                    + "checkpoints from before PyTorch 1.6 (_use_new_zipfile_serialization=False) are not supported",
                    e);
        }
        try (zip) {
            return new Loader(zip, source, options).load();
        } catch (ZipException | java.io.EOFException e) {
            throw new MalformedFileException(source, "corrupt zip archive: " + e.getMessage(), e);
        }
    }

    /**
     * The tensors of a state dict (or of any checkpoint), flattened with dotted names; the caller owns them.
     *
     * <p>PyTorch equivalent: {@code torch.load(path, weights_only=True)} of {@code model.state_dict()}.
     */
    public static Map<String, Tensor> loadStateDict(Path file) throws IOException {
        return loadStateDict(file, ReadOptions.defaults());
    }

    public static Map<String, Tensor> loadStateDict(Path file, ReadOptions options) throws IOException {
        TorchCheckpoint checkpoint = load(file, options);
        // Ownership passes to the caller: the checkpoint object is dropped without closing.
        return new LinkedHashMap<>(checkpoint.tensors);
    }

    /**
     * The unpickled object: {@code Map} for dicts and OrderedDicts (insertion order), {@code List} for lists and
     * tuples, {@code Long}, {@code Double}, {@code String}, {@code Boolean}, {@code byte[]}, {@code null}, and
     * {@link Tensor} (owned by this checkpoint).
     */
    public Object root() {
        return root;
    }

    /** Every tensor reachable through dicts, lists and tuples, by dotted path ({@code "model.embedding.weight"}). */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /**
     * @throws IllegalArgumentException if there is no tensor of that name (the message lists some that there are)
     */
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            List<String> names = new ArrayList<>(tensors.keySet());
            throw new IllegalArgumentException("no tensor named '" + name + "'; the checkpoint has "
                    + (names.size() <= 10 ? names : names.subList(0, 10) + " and " + (names.size() - 10) + " more"));
        }
        return t;
    }

    @Override
    public void close() {
        owned.forEach(Tensor::close);
    }

    /** One load: finds the archive's records, unpickles, then reads each storage once. */
    private static final class Loader {
        private final ZipFile zip;
        private final String source;
        private final ReadOptions options;
        private final List<Tensor> owned = new ArrayList<>();
        private String prefix;
        private ByteOrder order = ByteOrder.LITTLE_ENDIAN;

        Loader(ZipFile zip, String source, ReadOptions options) {
            this.zip = zip;
            this.source = source;
            this.options = options;
        }

        TorchCheckpoint load() throws IOException {
            try {
                findPrefix();
                ZipEntry orderEntry = zip.getEntry(prefix + "byteorder");
                if (orderEntry != null) {
                    String text = new String(readSmall(orderEntry, 16), StandardCharsets.US_ASCII).trim();
                    if (text.equals("big")) {
                        order = ByteOrder.BIG_ENDIAN;
                    } else if (!text.equals("little")) {
                        throw new MalformedFileException(source, "byteorder record says '" + text + "'");
                    }
                }
                byte[] pickle = readSmall(zip.getEntry(prefix + "data.pkl"), MAX_PICKLE_BYTES);
                Object raw = new RestrictedUnpickler(pickle, source).load();
                List<TensorRef> refs = new ArrayList<>();
                collect(raw, refs, Collections.newSetFromMap(new IdentityHashMap<>()));
                Map<TensorRef, Tensor> made = materialize(refs);
                Map<String, Tensor> flat = new LinkedHashMap<>();
                Object root = convert(raw, made, "", flat, new IdentityHashMap<>());
                return new TorchCheckpoint(root, flat, owned);
            } catch (IOException | RuntimeException | Error e) {
                owned.forEach(Tensor::close);
                throw e;
            }
        }

        private void findPrefix() throws MalformedFileException {
            List<String> found = new ArrayList<>();
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                if (name.endsWith("data.pkl")) {
                    String p = name.substring(0, name.length() - "data.pkl".length());
                    if (p.isEmpty() || (p.indexOf('/') == p.length() - 1)) {
                        found.add(p);
                    }
                }
            }
            if (found.size() != 1) {
                throw new MalformedFileException(source, found.isEmpty()
                        ? "no <archive>/data.pkl record: not a torch.save checkpoint"
                        : "several data.pkl records " + found);
            }
            prefix = found.get(0);
        }

        /** An entry's bytes, at most {@code max}; sizes checked before reading. */
        private byte[] readSmall(ZipEntry entry, int max) throws IOException {
            long size = checkedSize(entry, entry.getName());
            if (size > max) {
                throw new MalformedFileException(source, "record '" + entry.getName() + "' has " + size
                        + " bytes, more than the " + max + " allowed");
            }
            try (InputStream in = zip.getInputStream(entry)) {
                byte[] bytes = in.readNBytes((int) size);
                if (bytes.length != size || in.read() >= 0) {
                    throw new MalformedFileException(source, "record '" + entry.getName()
                            + "' does not hold the " + size + " bytes the archive declares");
                }
                return bytes;
            }
        }

        /** The entry's declared size, once it is clear that its compressed bytes can honestly produce it. */
        private long checkedSize(ZipEntry entry, String name) throws MalformedFileException {
            long size = entry.getSize();
            long compressed = entry.getCompressedSize();
            if (size < 0 || compressed < 0) {
                throw new MalformedFileException(source, "record '" + name + "' has no declared size");
            }
            boolean bomb = entry.getMethod() == ZipEntry.STORED ? size != compressed
                    : compressed < Long.MAX_VALUE / 1032 && size > compressed * 1032 + 64;
            if (bomb) {
                throw new MalformedFileException(source, "zip bomb: record '" + name + "' claims " + size
                        + " bytes from " + compressed + " compressed bytes");
            }
            return size;
        }

        private void collect(Object o, List<TensorRef> refs, java.util.Set<Object> seen) {
            // Iterative, so that deep nesting cannot overflow the stack.
            java.util.ArrayDeque<Object> work = new java.util.ArrayDeque<>();
            work.push(o);
            while (!work.isEmpty()) {
                Object x = work.pop();
                if (x == null || !seen.add(x)) {
                    continue;
                }
                if (x instanceof TensorRef) {
                    refs.add((TensorRef) x);
                } else if (x instanceof Map) {
                    ((Map<?, ?>) x).values().forEach(v -> { if (v != null) work.push(v); });
                } else if (x instanceof List) {
                    ((List<?>) x).forEach(v -> { if (v != null) work.push(v); });
                } else if (x instanceof Tuple) {
                    ((Tuple) x).items.forEach(v -> { if (v != null) work.push(v); });
                }
            }
        }

        /** Reads each storage once; a tensor that is its storage's only, whole, contiguous user is read in place. */
        private Map<TensorRef, Tensor> materialize(List<TensorRef> refs) throws IOException {
            Map<String, List<TensorRef>> byStorage = new LinkedHashMap<>();
            Map<String, StorageRef> storages = new HashMap<>();
            for (TensorRef ref : refs) {
                StorageRef previous = storages.putIfAbsent(ref.storage.key, ref.storage);
                if (previous != null && (!previous.type.equals(ref.storage.type)
                        || previous.numel != ref.storage.numel)) {
                    throw new MalformedFileException(source, "storage '" + ref.storage.key + "' is described as "
                            + previous.type + "(" + previous.numel + ") and as " + ref.storage.type + "("
                            + ref.storage.numel + ")");
                }
                check(ref);
                byStorage.computeIfAbsent(ref.storage.key, k -> new ArrayList<>()).add(ref);
            }
            long total = 0;
            for (StorageRef s : storages.values()) {
                total += s.numel * StorageTypes.itemSize(s.type);
            }
            Progress progress = new Progress(options.progress(), total);
            Map<TensorRef, Tensor> made = new IdentityHashMap<>();
            for (Map.Entry<String, List<TensorRef>> e : byStorage.entrySet()) {
                StorageRef storage = storages.get(e.getKey());
                List<TensorRef> users = e.getValue();
                FileElement element = StorageTypes.element(storage.type);
                if (element == null) {
                    throw new MalformedFileException(source, "storage '" + storage.key + "' is a " + storage.type
                            + ", which jembed cannot load (it loads Float, Double, Half, BFloat16, Int and Long)");
                }
                ZipEntry entry = zip.getEntry(prefix + "data/" + storage.key);
                if (entry == null) {
                    throw new MalformedFileException(source, "storage '" + storage.key + "' has no record "
                            + prefix + "data/" + storage.key);
                }
                long bytes = storage.numel * element.size();
                long declared = checkedSize(entry, entry.getName());
                if (declared != bytes) {
                    throw new MalformedFileException(source, "storage '" + storage.key + "' of " + storage.numel
                            + " elements needs " + bytes + " bytes but its record has " + declared);
                }
                TensorRef only = users.size() == 1 ? users.get(0) : null;
                try (InputStream in = zip.getInputStream(entry)) {
                    String what = "storage '" + storage.key + "'";
                    if (only != null && only.offset == 0 && contiguous(only) && numel(only) == storage.numel) {
                        made.put(only, ElementReader.read(Channels.newChannel(in), element, order, only.size, source,
                                what, !options.allowNonFinite(), progress));
                        owned.add(made.get(only));
                    } else {
                        try (Tensor whole = ElementReader.read(Channels.newChannel(in), element, order,
                                new long[] {storage.numel}, source, what, !options.allowNonFinite(), progress)) {
                            for (TensorRef ref : users) {
                                Tensor t = view(whole, ref);
                                owned.add(t);
                                made.put(ref, t);
                            }
                        }
                    }
                }
            }
            progress.finish();
            return made;
        }

        /** Offsets, sizes and strides within the storage, without overflow. */
        private void check(TensorRef ref) throws MalformedFileException {
            String where = "a tensor of storage '" + ref.storage.key + "' (size " + Arrays.toString(ref.size)
                    + ", stride " + Arrays.toString(ref.stride) + ", offset " + ref.offset + ")";
            if (ref.offset < 0) {
                throw new MalformedFileException(source, where + " has a negative offset");
            }
            long last = ref.offset;
            boolean empty = false;
            for (int d = 0; d < ref.size.length; d++) {
                if (ref.size[d] < 0 || ref.stride[d] < 0) {
                    throw new MalformedFileException(source, where + " has a negative size or stride");
                }
                empty |= ref.size[d] == 0;
            }
            try {
                numelExact(ref);
                for (int d = 0; d < ref.size.length && !empty; d++) {
                    last = Math.addExact(last, Math.multiplyExact(ref.size[d] - 1, ref.stride[d]));
                }
            } catch (ArithmeticException e) {
                throw new MalformedFileException(source, where + " overflows");
            }
            if (!empty && last >= ref.storage.numel) {
                throw new MalformedFileException(source, where + " reaches element " + last + " of a storage of "
                        + ref.storage.numel);
            }
        }

        private static long numelExact(TensorRef ref) {
            long n = 1;
            for (long s : ref.size) {
                n = Math.multiplyExact(n, s);
            }
            return n;
        }

        private static long numel(TensorRef ref) {
            return numelExact(ref);
        }

        private static boolean contiguous(TensorRef ref) {
            long expected = 1;
            for (int d = ref.size.length - 1; d >= 0; d--) {
                if (ref.size[d] != 1 && ref.stride[d] != expected) {
                    return false;
                }
                expected *= ref.size[d];
            }
            return true;
        }

        /** A contiguous copy of a strided view of {@code whole}. */
        private static Tensor view(Tensor whole, TensorRef ref) {
            Tensor out = Torch.empty(whole.dtype(), ref.size);
            Memory from = TensorInternals.memory(whole);
            Memory to = TensorInternals.memory(out);
            int itemSize = whole.dtype().itemSize();
            long total = out.numel();
            int rank = ref.size.length;
            long[] index = new long[rank];
            long source = ref.offset;
            for (long i = 0; i < total; i++) {
                from.copyTo(source * itemSize, to, i * itemSize, itemSize);
                for (int d = rank - 1; d >= 0; d--) {
                    if (++index[d] < ref.size[d]) {
                        source += ref.stride[d];
                        break;
                    }
                    source -= ref.stride[d] * (ref.size[d] - 1);
                    index[d] = 0;
                }
            }
            return out;
        }

        /** The public form of the unpickled object, collecting tensors by dotted path. */
        private Object convert(Object root, Map<TensorRef, Tensor> made, String unused, Map<String, Tensor> flat,
                               IdentityHashMap<Object, Object> done) {
            java.util.ArrayDeque<Object[]> work = new java.util.ArrayDeque<>();   // {raw, path}
            Object result = shallow(root, made, done);
            work.push(new Object[] {root, ""});
            while (!work.isEmpty()) {
                Object[] item = work.pop();
                Object raw = item[0];
                String path = (String) item[1];
                Object converted = done.get(raw);
                if (raw instanceof TensorRef) {
                    flat.putIfAbsent(path, made.get(raw));
                } else if (raw instanceof Map && converted instanceof Map && ((Map<?, ?>) converted).isEmpty()) {
                    @SuppressWarnings("unchecked")
                    Map<Object, Object> target = (Map<Object, Object>) converted;
                    List<Object[]> children = new ArrayList<>();
                    for (Map.Entry<?, ?> e : ((Map<?, ?>) raw).entrySet()) {
                        Object key = e.getKey() instanceof Tuple ? shallow(e.getKey(), made, done) : e.getKey();
                        target.put(key, shallow(e.getValue(), made, done));
                        children.add(new Object[] {e.getValue(), join(path, String.valueOf(e.getKey()))});
                    }
                    Collections.reverse(children);
                    children.forEach(work::push);
                } else if ((raw instanceof List || raw instanceof Tuple) && converted instanceof List
                        && ((List<?>) converted).isEmpty()) {
                    List<?> items = raw instanceof Tuple ? ((Tuple) raw).items : (List<?>) raw;
                    @SuppressWarnings("unchecked")
                    List<Object> target = (List<Object>) converted;
                    List<Object[]> children = new ArrayList<>();
                    for (int i = 0; i < items.size(); i++) {
                        target.add(shallow(items.get(i), made, done));
                        children.add(new Object[] {items.get(i), join(path, Integer.toString(i))});
                    }
                    Collections.reverse(children);
                    children.forEach(work::push);
                }
            }
            return result;
        }

        private static String join(String path, String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        /** The converted object for {@code raw}: containers are created empty (filled by convert), once each. */
        private static Object shallow(Object raw, Map<TensorRef, Tensor> made, IdentityHashMap<Object, Object> done) {
            if (raw == null) {
                return null;
            }
            Object existing = done.get(raw);
            if (existing != null) {
                return existing;
            }
            Object converted;
            if (raw instanceof TensorRef) {
                converted = made.get(raw);
            } else if (raw instanceof Map) {
                converted = new LinkedHashMap<>();
            } else if (raw instanceof List || raw instanceof Tuple) {
                converted = new ArrayList<>();
            } else if (raw instanceof StorageRef) {
                converted = "storage " + ((StorageRef) raw).key;
            } else if (raw instanceof RestrictedUnpickler.Global) {
                converted = raw.toString();
            } else {
                converted = raw;
            }
            done.put(raw, converted);
            return converted;
        }
    }
}
