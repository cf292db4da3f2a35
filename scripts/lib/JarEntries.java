import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** Prints each entry of a jar with the SHA-256 of its contents, in the jar's order (java JarEntries.java JAR). */
public class JarEntries {
    public static void main(String[] args) throws Exception {
        try (ZipFile zip = new ZipFile(args[0])) {
            for (ZipEntry entry : java.util.Collections.list(zip.entries())) {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                try (InputStream in = zip.getInputStream(entry)) {
                    sha.update(in.readAllBytes());
                }
                System.out.println(entry.getName() + " " + HexFormat.of().formatHex(sha.digest()));
            }
        }
    }
}
