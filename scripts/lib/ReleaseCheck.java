import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * Checks a Maven repository directory (what `mvn -Prelease deploy` wrote) against Maven Central's published
 * requirements (https://central.sonatype.org/publish/requirements/) for io.jembed:jembed and io.jembed:jembed-platform:
 * every file has its .asc signature (scripts/release-check verifies them with gpg) and correct .md5 and .sha1
 * checksums (.sha256/.sha512 checked when present); the main jar has -sources and -javadoc jars; each POM has
 * coordinates, name, description, url, a license with name and url, a developer with a name, and scm with url and
 * connection. Beyond Central's rules, it checks what users rely on: LICENSE and NOTICE in every jar but the Javadoc,
 * the module names, each classifier jar holding its platform's library (and only it), jembed-platform naming the
 * classifiers that were deployed.
 *
 * Usage: java ReleaseCheck.java REPO_DIR EXPECTED_CLASSIFIER... ; prints what Central would receive, exits 1 on a
 * failed requirement. A -SNAPSHOT version is reported (Central's release repository refuses it) but not failed: the
 * release step sets the version.
 */
public class ReleaseCheck {
    private static final List<String> failures = new ArrayList<>();
    private static final Pattern SNAPSHOT_STAMP = Pattern.compile("-\\d{8}\\.\\d{6}-\\d+");

    public static void main(String[] args) throws Exception {
        Path repo = Path.of(args[0]);
        List<String> classifiers = List.of(args).subList(1, args.length);
        Path group = repo.resolve("io/jembed");

        Map<String, Path> jembed = artifactFiles(group.resolve("jembed"), "jembed");
        Map<String, Path> platform = artifactFiles(group.resolve("jembed-platform"), "jembed-platform");

        System.out.println("io.jembed:jembed (" + versionOf(group.resolve("jembed")) + "):");
        require(jembed, ".pom", "the POM");
        require(jembed, ".jar", "the main jar");
        require(jembed, "-sources.jar", "the sources jar (Central requires it beside a jar)");
        require(jembed, "-javadoc.jar", "the Javadoc jar (Central requires it beside a jar)");
        for (String classifier : classifiers) {
            require(jembed, "-" + classifier + ".jar", "the " + classifier + " native jar");
        }
        for (Map.Entry<String, Path> e : jembed.entrySet()) {
            checkFile(e.getKey(), e.getValue(), classifiers);
        }
        System.out.println("io.jembed:jembed-platform (" + versionOf(group.resolve("jembed-platform")) + "):");
        require(platform, ".pom", "the POM");
        for (Map.Entry<String, Path> e : platform.entrySet()) {
            checkFile(e.getKey(), e.getValue(), classifiers);
        }
        if (jembed.containsKey(".pom") && platform.containsKey(".pom")) {
            checkPlatformDependencies(platform.get(".pom"), classifiers);
        }

        if (failures.isEmpty()) {
            System.out.println("release check: every requirement met");
        } else {
            System.out.println("release check FAILED:");
            failures.forEach(f -> System.out.println("  " + f));
            System.exit(1);
        }
    }

    /** Suffix after "artifactId-version" (".jar", "-sources.jar", ".pom", ...) -> the file, signatures and sums excluded. */
    private static Map<String, Path> artifactFiles(Path artifactDir, String artifactId) throws IOException {
        Map<String, Path> files = new TreeMap<>();
        if (!Files.isDirectory(artifactDir)) {
            failures.add("nothing deployed for " + artifactId + " (" + artifactDir + ")");
            return files;
        }
        try (Stream<Path> versions = Files.list(artifactDir)) {
            for (Path versionDir : versions.filter(Files::isDirectory).toList()) {
                String version = versionDir.getFileName().toString();
                String base = version.endsWith("-SNAPSHOT") ? version.substring(0, version.length() - 9) : version;
                try (Stream<Path> all = Files.list(versionDir)) {
                    for (Path file : all.toList()) {
                        String name = file.getFileName().toString();
                        if (name.startsWith("maven-metadata") || name.matches(".*\\.(asc|md5|sha1|sha256|sha512)$")) {
                            continue;
                        }
                        String rest = name.substring((artifactId + "-" + base).length());
                        Matcher stamp = SNAPSHOT_STAMP.matcher(rest);
                        if (version.endsWith("-SNAPSHOT") && stamp.lookingAt()) {
                            rest = rest.substring(stamp.end());
                        } else if (rest.startsWith(version.substring(base.length()))) {
                            rest = rest.substring(version.length() - base.length());
                        }
                        if (files.put(rest, file) != null) {
                            failures.add(artifactId + ": two files for " + rest + " (deploy into an empty repository)");
                        }
                    }
                }
            }
        }
        return files;
    }

    private static String versionOf(Path artifactDir) throws IOException {
        if (!Files.isDirectory(artifactDir)) {
            return "missing";
        }
        try (Stream<Path> versions = Files.list(artifactDir)) {
            String version = versions.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .findFirst().orElse("missing");
            return version.endsWith("-SNAPSHOT")
                    ? version + "; a SNAPSHOT: Central's release repository takes only the release version, set by the"
                            + " release step"
                    : version;
        }
    }

    private static void require(Map<String, Path> files, String suffix, String what) {
        if (!files.containsKey(suffix)) {
            failures.add("missing: " + what + " (*" + suffix + ")");
        }
    }

    private static void checkFile(String suffix, Path file, List<String> classifiers) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        List<String> present = new ArrayList<>();
        String name = file.getFileName().toString();
        if (Files.isRegularFile(Path.of(file + ".asc"))) {
            present.add(".asc");
        } else {
            failures.add(name + ": no .asc signature");
        }
        Map<String, String> sums = new LinkedHashMap<>();
        sums.put("md5", "MD5");
        sums.put("sha1", "SHA-1");
        sums.put("sha256", "SHA-256");
        sums.put("sha512", "SHA-512");
        for (Map.Entry<String, String> sum : sums.entrySet()) {
            Path sumFile = Path.of(file + "." + sum.getKey());
            boolean required = sum.getKey().equals("md5") || sum.getKey().equals("sha1");
            if (!Files.isRegularFile(sumFile)) {
                if (required) {
                    failures.add(name + ": no ." + sum.getKey() + " checksum");
                }
                continue;
            }
            String expected = HexFormat.of().formatHex(MessageDigest.getInstance(sum.getValue()).digest(bytes));
            String written = Files.readString(sumFile).trim().split("\\s+")[0];
            if (!written.equalsIgnoreCase(expected)) {
                failures.add(name + "." + sum.getKey() + ": " + written + ", but the file's is " + expected);
            }
            present.add("." + sum.getKey());
            // Central signs nothing itself: a signature or checksum of the signature is not required, so none checked.
        }
        System.out.printf("  %-44s %9d bytes  %s%n", name, bytes.length, String.join(" ", present));

        if (suffix.equals(".pom")) {
            checkPom(file);
        } else if (suffix.endsWith(".jar")) {
            checkJar(suffix, file, classifiers);
        }
    }

    private static void checkPom(Path pom) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(false);
        Document doc = factory.newDocumentBuilder().parse(pom.toFile());
        Element project = doc.getDocumentElement();
        String name = pom.getFileName().toString();
        for (String field : List.of("groupId", "artifactId", "version", "name", "description", "url")) {
            if (text(project, field).isEmpty()) {
                failures.add(name + ": no <" + field + ">");
            }
        }
        Element license = first(first(project, "licenses"), "license");
        if (text(license, "name").isEmpty() || text(license, "url").isEmpty()) {
            failures.add(name + ": no <licenses><license> with <name> and <url>");
        }
        Element developer = first(first(project, "developers"), "developer");
        if (text(developer, "name").isEmpty()) {
            failures.add(name + ": no <developers><developer> with a <name>");
        }
        Element scm = first(project, "scm");
        if (text(scm, "url").isEmpty() || text(scm, "connection").isEmpty()) {
            failures.add(name + ": no <scm> with <url> and <connection>");
        }
        if (failures.stream().noneMatch(f -> f.startsWith(name))) {
            System.out.println("    POM: coordinates, name, description, url, license '" + text(license, "name")
                    + "', developer '" + text(developer, "name") + "', scm " + text(scm, "url"));
        }
    }

    private static void checkJar(String suffix, Path jar, List<String> classifiers) throws IOException {
        String name = jar.getFileName().toString();
        try (JarFile file = new JarFile(jar.toFile())) {
            List<String> entries = file.stream().map(e -> e.getName()).toList();
            // The Javadoc jar is the documentation javadoc generated, nothing of jembed's own code or binaries.
            if (!suffix.equals("-javadoc.jar")
                    && (!entries.contains("META-INF/LICENSE") || !entries.contains("META-INF/NOTICE"))) {
                failures.add(name + ": no META-INF/LICENSE and META-INF/NOTICE");
            }
            String module = file.getManifest() == null ? null
                    : file.getManifest().getMainAttributes().getValue("Automatic-Module-Name");
            String detail;
            switch (suffix) {
                case ".jar" -> {
                    expect(name, "Automatic-Module-Name", "io.jembed", module);
                    long classes = entries.stream().filter(e -> e.endsWith(".class")).count();
                    if (entries.stream().anyMatch(e -> e.contains("/nativebinding/") && !e.endsWith("/")
                            && !e.endsWith(".class"))) {
                        failures.add(name + ": the main jar holds a native library");
                    }
                    detail = classes + " classes, module io.jembed";
                }
                case "-sources.jar" -> {
                    long sources = entries.stream().filter(e -> e.endsWith(".java")).count();
                    if (!entries.contains("io/jembed/Tensor.java")) {
                        failures.add(name + ": no io/jembed/Tensor.java");
                    }
                    detail = sources + " .java files";
                }
                case "-javadoc.jar" -> {
                    // javadoc lays pages out under the module name (io.jembed/io/jembed/...) for a named module.
                    if (!entries.contains("index.html")
                            || entries.stream().noneMatch(e -> e.endsWith("io/jembed/Tensor.html"))) {
                        failures.add(name + ": no index.html or io/jembed/Tensor.html");
                    }
                    if (entries.stream().anyMatch(e -> e.contains("io/jembed/internal/"))) {
                        failures.add(name + ": documents io.jembed.internal");
                    }
                    detail = entries.stream().filter(e -> e.endsWith(".html")).count() + " pages";
                }
                case "-cli.jar" -> {
                    // The command-line tool (scripts/jembed): its own classes, run beside the main jar and picocli.
                    expect(name, "Automatic-Module-Name", "io.jembed.cli", module);
                    long classes = entries.stream().filter(e -> e.endsWith(".class")).count();
                    if (classes == 0 || entries.stream().anyMatch(e -> e.endsWith(".class")
                            && !e.startsWith("io/jembed/cli/"))) {
                        failures.add(name + ": the tool jar must hold io/jembed/cli classes and nothing else");
                    }
                    detail = classes + " classes of the command-line tool, module " + module;
                }
                default -> {
                    String classifier = suffix.substring(1, suffix.length() - 4);
                    expect(name, "Automatic-Module-Name", "io.jembed." + classifier.replace('-', '.'), module);
                    List<String> libraries = entries.stream()
                            .filter(e -> e.startsWith("io/jembed/internal/nativebinding/" + classifier + "/")
                                    && !e.endsWith("/"))
                            .toList();
                    if (libraries.isEmpty()) {
                        failures.add(name + ": no library under io/jembed/internal/nativebinding/" + classifier);
                    }
                    if (entries.stream().anyMatch(e -> e.endsWith(".class"))) {
                        failures.add(name + ": a native jar holds classes");
                    }
                    if (classifier.startsWith("windows") && !entries.contains("META-INF/licenses/mingw-w64.txt")) {
                        failures.add(name + ": no META-INF/licenses/mingw-w64.txt (the static mingw-w64 runtime's"
                                + " notices)");
                    }
                    detail = String.join(", ", libraries) + ", module " + module;
                }
            }
            System.out.println("    " + detail);
        }
    }

    private static void checkPlatformDependencies(Path pom, List<String> classifiers) throws Exception {
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
        NodeList deps = doc.getElementsByTagName("dependency");
        List<String> named = new ArrayList<>();
        for (int i = 0; i < deps.getLength(); i++) {
            String classifier = text((Element) deps.item(i), "classifier");
            named.add(classifier.isEmpty() ? "(main jar)" : classifier);
        }
        System.out.println("    depends on io.jembed:jembed " + String.join(", ", named));
        if (!named.contains("(main jar)")) {
            failures.add("jembed-platform does not depend on the main jar");
        }
        for (String classifier : classifiers) {
            // The POM names them through properties (-Djavacpp.platform trims them): ${javacpp.platform.<name>}.
            if (!named.contains(classifier) && !named.contains("${javacpp.platform." + classifier + "}")) {
                failures.add("jembed-platform does not depend on the " + classifier + " jar");
            }
        }
    }

    private static void expect(String file, String what, String expected, String actual) {
        if (!expected.equals(actual)) {
            failures.add(file + ": " + what + " is " + actual + ", expected " + expected);
        }
    }

    private static Element first(Element parent, String tag) {
        if (parent == null) {
            return null;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(tag)) {
                return e;
            }
        }
        return null;
    }

    private static String text(Element parent, String tag) {
        Element e = first(parent, tag);
        return e == null ? "" : e.getTextContent().trim();
    }
}
