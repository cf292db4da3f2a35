package io.jembed.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.numpy.Npy;
import io.jembed.io.numpy.Npz;
import io.jembed.io.safetensors.QuantizedSafetensors;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.io.wordvectors.Glove;
import io.jembed.io.wordvectors.WordVectors;
import io.jembed.io.wordvectors.Word2Vec;
import io.jembed.quantized.QuantizedDType;
import io.jembed.quantized.QuantizedTable;
import io.jembed.vocab.Vocabulary;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files jembed writes get the permissions Python's writers give them ({@code open(path, "wb")}): a new file the
 * process's default, an existing file its own. Tables are shared by many processes and users; a table saved
 * {@code rw-------} (what a temporary file gets) cannot be read by the service that serves it.
 */
class SavedFilePermissionsTest {
    @TempDir
    Path dir;

    /** A file made the way Python makes one: what "the process's default" means here (0666 less the umask). */
    private Set<PosixFilePermission> processDefault;

    @BeforeEach
    void readTheProcessDefault() throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX permissions");
        Path plain = dir.resolve("plain");
        Files.write(plain, new byte[] {1});
        processDefault = Files.getPosixFilePermissions(plain);
        Files.delete(plain);
    }

    /** Each of jembed's file writers, writing {@code file}. */
    private interface Writer {
        void save(Path file) throws IOException;
    }

    private static Map<String, Writer> writers() {
        Map<String, Writer> writers = new LinkedHashMap<>();
        writers.put("Safetensors.saveFile", f -> {
            try (Tensor t = Torch.tensor(new float[] {1f, 2f}, 1, 2)) {
                Safetensors.saveFile(Map.of("w", t), f);
            }
        });
        writers.put("QuantizedSafetensors.saveFile", f -> {
            try (Tensor t = Torch.tensor(new float[] {1f, 2f, 3f, 4f}, 2, 2);
                 QuantizedTable q = QuantizedTable.quantize(t, QuantizedDType.QUINT8)) {
                QuantizedSafetensors.saveFile(Map.of("w", q), f, Map.of());
            }
        });
        writers.put("Npy.save", f -> {
            try (Tensor t = Torch.tensor(new float[] {1f, 2f}, 2)) {
                Npy.save(f, t);
            }
        });
        writers.put("Npz.save", f -> {
            try (Tensor t = Torch.tensor(new float[] {1f, 2f}, 2)) {
                Npz.save(f, Map.of("a", t));
            }
        });
        writers.put("Word2Vec.saveBinary", f -> {
            try (WordVectors v = Glove.load(glove(f))) {
                Word2Vec.saveBinary(v, f);
            }
        });
        writers.put("Glove.save", f -> {
            try (WordVectors v = Glove.load(glove(f))) {
                Glove.save(v, f);
            }
        });
        writers.put("Vocabulary.save", f -> Vocabulary.of("a", "b").save(f));
        return writers;
    }

    private static Path glove(Path beside) throws IOException {
        Path source = beside.resolveSibling(beside.getFileName() + ".source.txt");
        Files.writeString(source, "the 1 2\nof 0.5 -1\n");
        return source;
    }

    @Test
    void aNewFileGetsTheProcessDefaultNotOwnerOnly() throws IOException {
        assumeTrue(processDefault.contains(PosixFilePermission.OTHERS_READ),
                "a umask that lets others read (else the default is owner-only and nothing tells them apart)");
        for (Map.Entry<String, Writer> w : writers().entrySet()) {
            Path file = dir.resolve("new-" + w.getKey());
            w.getValue().save(file);
            assertEquals(PosixFilePermissions.toString(processDefault),
                    PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), w.getKey());
        }
    }

    @Test
    void replacingAFileKeepsItsPermissions() throws IOException {
        Set<PosixFilePermission> groupRead = PosixFilePermissions.fromString("rw-r-----");
        for (Map.Entry<String, Writer> w : writers().entrySet()) {
            Path file = dir.resolve("old-" + w.getKey());
            Files.write(file, new byte[] {42});
            Files.setPosixFilePermissions(file, groupRead);
            w.getValue().save(file);
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), w.getKey());
        }
    }

    @Test
    void aFailedSaveLeavesTheOldFileAndNoHiddenFile() throws IOException {
        Path file = dir.resolve("vectors.txt");
        Files.writeString(file, "old content");
        Path source = dir.resolve("spaces.txt");
        Files.writeString(source, "the 1 2\nnew york 0.5 -1\n");
        try (WordVectors v = Glove.load(source)) {
            assertThrows(IllegalArgumentException.class, () -> Word2Vec.saveText(v, file),
                    "word2vec text cannot hold a word with a space");
        }
        assertEquals("old content", Files.readString(file));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of("spaces.txt", "vectors.txt"),
                    left.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
