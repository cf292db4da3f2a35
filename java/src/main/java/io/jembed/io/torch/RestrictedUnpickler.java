package io.jembed.io.torch;

import io.jembed.io.MalformedFileException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle interpreter that builds only what {@code torch.load(weights_only=True)} accepts: primitive values
 * (None, bool, int, float, str, bytes), tuples, lists, dicts, {@code collections.OrderedDict}, {@code torch.Size},
 * {@code torch.device}, dtypes, and tensors rebuilt from storages by {@code torch._utils}' rebuild functions. Any other
 * global, and any opcode that could call one ({@code INST}, {@code OBJ}, {@code EXT*}), is refused before anything is
 * called: nothing in a checkpoint can run code. It never recurses (a deep nesting cannot overflow the stack), and
 * every length it reads is checked against the bytes that remain, so no allocation exceeds the pickle's own size.
 *
 * <p>Values: {@code Map<Object, Object>} (insertion order) for dicts, {@code List<Object>} for lists,
 * {@link Tuple} for tuples, {@code Long}/{@code BigInteger}, {@code Double}, {@code String}, {@code Boolean},
 * {@code byte[]}, {@code null}, {@link StorageRef} and {@link TensorRef}.
 */
final class RestrictedUnpickler {
    /** What torch.load(weights_only=True) lets a checkpoint name, and jembed implements. */
    static final Set<String> ALLOWED = Set.of(
            "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state", "torch.Size", "torch.device", "_codecs.encode",
            "torch.nn.parameter.Parameter", "builtins.set", "builtins.frozenset", "builtins.bytearray");

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    /** A tuple: an immutable list. */
    static final class Tuple {
        final List<Object> items;

        Tuple(List<Object> items) {
            this.items = Collections.unmodifiableList(items);
        }

        @Override
        public String toString() {
            return "tuple" + items;
        }
    }

    /** A global the pickle named (only allowed ones are ever made). */
    static final class Global {
        final String name;

        Global(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** A storage: its element type's name (e.g. FloatStorage), its key in the archive, and its element count. */
    static final class StorageRef {
        final String type;
        final String key;
        final long numel;

        StorageRef(String type, String key, long numel) {
            this.type = type;
            this.key = key;
            this.numel = numel;
        }
    }

    /** A tensor to be made: a view (offset, sizes, strides in elements) of a storage. */
    static final class TensorRef {
        final StorageRef storage;
        final long offset;
        final long[] size;
        final long[] stride;

        TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
            this.storage = storage;
            this.offset = offset;
            this.size = size;
            this.stride = stride;
        }
    }

    private final ByteBuffer in;
    private final String source;
    private final List<Object> stack = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    RestrictedUnpickler(byte[] pickle, String source) {
        this.in = ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN);
        this.source = source;
    }

    private MalformedFileException error(String what) {
        return new MalformedFileException(source, "data.pkl at byte " + in.position() + ": " + what);
    }

    private void need(long n) throws MalformedFileException {
        if (n < 0 || n > in.remaining()) {
            throw error("a length of " + n + " bytes runs past the end of the pickle (" + in.remaining()
                    + " bytes left; truncated or forged)");
        }
    }

    private Object pop() throws MalformedFileException {
        if (stack.isEmpty()) {
            throw error("stack underflow");
        }
        Object top = stack.remove(stack.size() - 1);
        if (top == MARK) {
            throw error("unexpected MARK");
        }
        return top;
    }

    private Object peek() throws MalformedFileException {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw error("stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    /** Everything above the topmost MARK, which is removed. */
    private List<Object> popMark() throws MalformedFileException {
        for (int i = stack.size() - 1; i >= 0; i--) {
            if (stack.get(i) == MARK) {
                List<Object> items = new ArrayList<>(stack.subList(i + 1, stack.size()));
                stack.subList(i, stack.size()).clear();
                return items;
            }
        }
        throw error("no MARK on the stack");
    }

    private String line() throws MalformedFileException {
        int start = in.position();
        while (in.hasRemaining()) {
            if (in.get() == '\n') {
                byte[] bytes = new byte[in.position() - start - 1];
                in.get(start, bytes);
                return new String(bytes, StandardCharsets.UTF_8);
            }
        }
        throw error("unterminated line");
    }

    private String utf8(long length) throws MalformedFileException {
        need(length);
        byte[] bytes = new byte[(int) length];
        in.get(bytes);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw error("a string is not valid UTF-8");
        }
    }

    private byte[] bytes(long length) throws MalformedFileException {
        need(length);
        byte[] bytes = new byte[(int) length];
        in.get(bytes);
        return bytes;
    }

    Object load() throws MalformedFileException {
        while (true) {
            if (!in.hasRemaining()) {
                throw error("the pickle ends without STOP (truncated)");
            }
            int at = in.position();
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80: // PROTO
                    need(1);
                    int protocol = in.get() & 0xff;
                    if (protocol > 5) {
                        throw error("pickle protocol " + protocol + " is not supported");
                    }
                    break;
                case 0x95: // FRAME
                    need(8);
                    in.getLong();
                    break;
                case '.': // STOP
                    Object result = pop();
                    if (!stack.isEmpty()) {
                        throw error("values left on the stack at STOP");
                    }
                    return result;
                case '(': stack.add(MARK); break;
                case '0': pop(); break;                       // POP
                case '1': popMark(); break;                   // POP_MARK
                case '2': stack.add(peek()); break;           // DUP
                case 'N': stack.add(null); break;
                case 0x88: stack.add(Boolean.TRUE); break;
                case 0x89: stack.add(Boolean.FALSE); break;
                case 'J': need(4); stack.add((long) in.getInt()); break;
                case 'K': need(1); stack.add((long) (in.get() & 0xff)); break;
                case 'M': need(2); stack.add((long) (in.getShort() & 0xffff)); break;
                case 0x8a: { // LONG1
                    need(1);
                    int n = in.get() & 0xff;
                    stack.add(littleEndianInteger(bytes(n)));
                    break;
                }
                case 0x8b: { // LONG4
                    need(4);
                    int n = in.getInt();
                    if (n > 64) {
                        throw error("an integer of " + n + " bytes");
                    }
                    stack.add(littleEndianInteger(bytes(n)));
                    break;
                }
                case 'G': need(8); stack.add(ByteBuffer.wrap(bytes(8)).getDouble()); break;   // big-endian
                case 'X': need(4); stack.add(utf8(in.getInt() & 0xffffffffL)); break;
                case 0x8c: need(1); stack.add(utf8(in.get() & 0xff)); break;
                case 0x8d: need(8); stack.add(utf8(in.getLong())); break;
                case 'C': need(1); stack.add(bytes(in.get() & 0xff)); break;
                case 'B': need(4); stack.add(bytes(in.getInt() & 0xffffffffL)); break;
                case 0x8e: need(8); stack.add(bytes(in.getLong())); break;
                case ')': stack.add(new Tuple(new ArrayList<>())); break;
                case 't': stack.add(new Tuple(popMark())); break;
                case 0x85: stack.add(new Tuple(new ArrayList<>(List.of(nullable(pop()))))); break;
                case 0x86: {
                    Object b = pop();
                    Object a = pop();
                    stack.add(new Tuple(listOf(a, b)));
                    break;
                }
                case 0x87: {
                    Object c = pop();
                    Object b = pop();
                    Object a = pop();
                    stack.add(new Tuple(listOf(a, b, c)));
                    break;
                }
                case ']': stack.add(new ArrayList<>()); break;
                case 'l': stack.add(popMark()); break;
                case '}': stack.add(new LinkedHashMap<>()); break;
                case 'd': {
                    List<Object> items = popMark();
                    Map<Object, Object> map = new LinkedHashMap<>();
                    putAll(map, items);
                    stack.add(map);
                    break;
                }
                case 0x8f: stack.add(new ArrayList<>()); break;   // EMPTY_SET, as a list
                case 0x90: {                                       // ADDITEMS
                    List<Object> items = popMark();
                    asList(peek(), "ADDITEMS").addAll(items);
                    break;
                }
                case 0x91: stack.add(new Tuple(popMark())); break; // FROZENSET, as a tuple
                case 'a': {
                    Object item = pop();
                    asList(peek(), "APPEND").add(item);
                    break;
                }
                case 'e': {
                    List<Object> items = popMark();
                    asList(peek(), "APPENDS").addAll(items);
                    break;
                }
                case 's': {
                    Object value = pop();
                    Object key = pop();
                    asMap(peek(), "SETITEM").put(key, value);
                    break;
                }
                case 'u': {
                    List<Object> items = popMark();
                    putAll(asMap(peek(), "SETITEMS"), items);
                    break;
                }
                case 'q': need(1); memo.put((long) (in.get() & 0xff), peek()); break;
                case 'r': need(4); memo.put(in.getInt() & 0xffffffffL, peek()); break;
                case 'p': memo.put(parseLong(line()), peek()); break;
                case 0x94: memo.put((long) memo.size(), peek()); break;   // MEMOIZE
                case 'h': need(1); stack.add(memoGet(in.get() & 0xff)); break;
                case 'j': need(4); stack.add(memoGet(in.getInt() & 0xffffffffL)); break;
                case 'g': stack.add(memoGet(parseLong(line()))); break;
                case 'c': { // GLOBAL
                    String module = line();
                    String name = line();
                    stack.add(global(module + "." + name));
                    break;
                }
                case 0x93: { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String) || !(name instanceof String)) {
                        throw error("STACK_GLOBAL needs two strings");
                    }
                    stack.add(global(module + "." + name));
                    break;
                }
                case 'Q': stack.add(persistent(pop())); break;   // BINPERSID
                case 'R': { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    stack.add(call(callable, args));
                    break;
                }
                case 0x81: { // NEWOBJ
                    Object args = pop();
                    Object cls = pop();
                    stack.add(call(cls, args));
                    break;
                }
                case 'b': { // BUILD: only the state of an OrderedDict or a rebuilt tensor, which carry none we need
                    Object state = pop();
                    Object target = peek();
                    if (target instanceof Map && state instanceof Map) {
                        ((Map<Object, Object>) target).putAll((Map<?, ?>) state);
                    } else if (!(target instanceof TensorRef) && !(target instanceof Map)) {
                        throw error("BUILD of " + describe(target) + " is not allowed");
                    }
                    break;
                }
                default:
                    in.position(at);
                    throw error(String.format("opcode 0x%02x%s is not allowed by weights-only unpickling", op,
                            op >= 0x20 && op < 0x7f ? " ('" + (char) op + "')" : ""));
            }
        }
    }

    private static List<Object> listOf(Object... items) {
        List<Object> list = new ArrayList<>(items.length);
        Collections.addAll(list, items);
        return list;
    }

    private static Object nullable(Object o) {
        return o;
    }

    private long parseLong(String text) throws MalformedFileException {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw error("bad memo index \"" + text + "\"");
        }
    }

    private Object memoGet(long index) throws MalformedFileException {
        if (!memo.containsKey(index)) {
            throw error("memo index " + index + " was never stored");
        }
        return memo.get(index);
    }

    private static Object littleEndianInteger(byte[] bytes) {
        if (bytes.length == 0) {
            return 0L;
        }
        byte[] big = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            big[i] = bytes[bytes.length - 1 - i];
        }
        BigInteger value = new BigInteger(big);
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    @SuppressWarnings("unchecked")
    private List<Object> asList(Object target, String op) throws MalformedFileException {
        if (!(target instanceof List)) {
            throw error(op + " on " + describe(target));
        }
        return (List<Object>) target;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> asMap(Object target, String op) throws MalformedFileException {
        if (!(target instanceof Map)) {
            throw error(op + " on " + describe(target));
        }
        return (Map<Object, Object>) target;
    }

    private void putAll(Map<Object, Object> map, List<Object> items) throws MalformedFileException {
        if (items.size() % 2 != 0) {
            throw error("an odd number of dict items");
        }
        for (int i = 0; i < items.size(); i += 2) {
            Object key = items.get(i);
            if (key instanceof List || key instanceof Map) {
                throw error("unhashable dict key " + describe(key));
            }
            map.put(key, items.get(i + 1));
        }
    }

    private Global global(String name) throws MalformedFileException {
        if (ALLOWED.contains(name) || StorageTypes.isStorage(name) || StorageTypes.isDtype(name)) {
            return new Global(name);
        }
        throw error("global '" + name + "' is forbidden: like torch.load(weights_only=True), jembed accepts only "
                + "tensors, storages, OrderedDict and primitive containers in a checkpoint");
    }

    private StorageRef persistent(Object pid) throws MalformedFileException {
        if (!(pid instanceof Tuple) || ((Tuple) pid).items.size() != 5 || !"storage".equals(((Tuple) pid).items.get(0))) {
            throw error("persistent id " + describe(pid) + " is not ('storage', type, key, location, numel)");
        }
        List<Object> items = ((Tuple) pid).items;
        if (!(items.get(1) instanceof Global) || !StorageTypes.isStorage(((Global) items.get(1)).name)
                || !(items.get(2) instanceof String) || !(items.get(4) instanceof Long) || (Long) items.get(4) < 0) {
            throw error("persistent id " + describe(pid) + " is not a storage reference");
        }
        String key = (String) items.get(2);
        if (key.isEmpty() || key.contains("/") || key.contains("..")) {
            throw error("storage key '" + key + "' is not a plain name");
        }
        return new StorageRef(((Global) items.get(1)).name, key, (Long) items.get(4));
    }

    private Object call(Object callable, Object argsObject) throws MalformedFileException {
        if (!(callable instanceof Global)) {
            throw error("REDUCE of " + describe(callable) + ", which is not an allowed global");
        }
        if (!(argsObject instanceof Tuple)) {
            throw error("arguments of " + callable + " are not a tuple");
        }
        List<Object> args = ((Tuple) argsObject).items;
        String name = ((Global) callable).name;
        switch (name) {
            case "collections.OrderedDict":
                if (!args.isEmpty()) {
                    throw error("OrderedDict with arguments");
                }
                return new LinkedHashMap<>();
            case "torch.Size":
            case "builtins.set":
            case "builtins.frozenset":
                return args.isEmpty() ? new Tuple(new ArrayList<>()) : args.get(0);
            case "torch.device":
                return args.isEmpty() ? null : String.valueOf(args.get(0));
            case "_codecs.encode":
                if (args.size() != 2 || !(args.get(0) instanceof String)) {
                    throw error("_codecs.encode needs (str, encoding)");
                }
                return ((String) args.get(0)).getBytes(StandardCharsets.ISO_8859_1);
            case "builtins.bytearray":
                return args.isEmpty() ? new byte[0] : args.get(0);
            case "torch._utils._rebuild_tensor":
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_tensor_v3":
                return tensor(args, name);
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
            case "torch.nn.parameter.Parameter":
                if (args.isEmpty() || !(args.get(0) instanceof TensorRef)) {
                    throw error(name + " needs a tensor");
                }
                return args.get(0);
            default:
                throw error("global '" + name + "' cannot be called");
        }
    }

    private TensorRef tensor(List<Object> args, String name) throws MalformedFileException {
        if (args.size() < 4 || !(args.get(0) instanceof StorageRef) || !(args.get(1) instanceof Long)) {
            throw error(name + " needs (storage, offset, size, stride, ...)");
        }
        long[] size = longs(args.get(2), "size");
        long[] stride = longs(args.get(3), "stride");
        if (size.length != stride.length) {
            throw error("size " + java.util.Arrays.toString(size) + " and stride " + java.util.Arrays.toString(stride)
                    + " differ in rank");
        }
        return new TensorRef((StorageRef) args.get(0), (Long) args.get(1), size, stride);
    }

    private long[] longs(Object value, String what) throws MalformedFileException {
        List<Object> items = value instanceof Tuple ? ((Tuple) value).items : null;
        if (items == null) {
            throw error("tensor " + what + " is " + describe(value) + ", not a tuple");
        }
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(items.get(i) instanceof Long)) {
                throw error("tensor " + what + " holds " + describe(items.get(i)));
            }
            out[i] = (Long) items.get(i);
        }
        return out;
    }

    private static String describe(Object value) {
        if (value == null) {
            return "None";
        }
        String text = value instanceof Global ? "global " + value : value.getClass().getSimpleName();
        return text.length() > 60 ? text.substring(0, 60) + "..." : text;
    }
}
