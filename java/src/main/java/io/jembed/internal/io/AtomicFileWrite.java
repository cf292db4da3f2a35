package io.jembed.internal.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a whole file or nothing: the content goes to a hidden file beside the target, which replaces the target
 * only once it is complete, so a reader (or a process that maps the table) never sees half a file and a failed write
 * leaves the old one. Not API.
 *
 * <p>The file gets the permissions Python's {@code open(path, "wb")} gives it (what {@code safetensors.save_file},
 * {@code numpy.save} and gensim do): an existing file keeps its own, a new one gets the process's default (0666 less
 * the umask). {@link Files#createTempFile} would make every table {@code rw-------}, unreadable by the other users and
 * services that share it.
 */
public final class AtomicFileWrite {
    /** Writes the file's content to {@code out}, an empty file open for writing. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel out) throws IOException;
    }

    private AtomicFileWrite() {}

    public static void write(Path file, Content content) throws IOException {
        Path target = file.toAbsolutePath();
        Path temporary = null;
        try {
            FileChannel out = null;
            while (out == null) {
                temporary = target.resolveSibling("." + target.getFileName() + "."
                        + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + ".tmp");
                try {
                    out = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException taken) {
                    // another writer's hidden file: draw another name
                }
            }
            try (FileChannel channel = out) {
                content.writeTo(channel);
            }
            keepPermissionsOf(target, temporary);
            try {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            if (temporary != null) {
                Files.deleteIfExists(temporary);
            }
        }
    }

    private static void keepPermissionsOf(Path target, Path temporary) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(target, PosixFileAttributeView.class);
        if (view == null) {
            return; // not a POSIX file system: the new file has the directory's default access
        }
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(target);
        } catch (NoSuchFileException absent) {
            return;
        }
        Files.setPosixFilePermissions(temporary, permissions);
    }
}
