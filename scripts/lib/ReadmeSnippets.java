import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Every ```java block of the README must be in the examples project: its non-blank lines, each trimmed, must occur
 * in this order (other lines may come between them) in one .java file under the examples directory, so the snippet
 * compiles and runs as printed. Usage: java ReadmeSnippets.java README.md examples/src/main/java
 */
public class ReadmeSnippets {
    public static void main(String[] args) throws Exception {
        List<String> readme = Files.readAllLines(Path.of(args[0]));
        Map<Path, List<String>> sources = new TreeMap<>();
        try (Stream<Path> files = Files.walk(Path.of(args[1]))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                sources.put(file, Files.readAllLines(file).stream().map(String::trim).toList());
            }
        }
        int snippets = 0;
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < readme.size(); i++) {
            if (!readme.get(i).trim().equals("```java")) {
                continue;
            }
            int start = i + 1;
            List<String> snippet = new ArrayList<>();
            for (i = start; i < readme.size() && !readme.get(i).trim().startsWith("```"); i++) {
                if (!readme.get(i).isBlank()) {
                    snippet.add(readme.get(i).trim());
                }
            }
            snippets++;
            Path home = sources.entrySet().stream().filter(e -> containsInOrder(e.getValue(), snippet))
                    .map(Map.Entry::getKey).findFirst().orElse(null);
            String first = snippet.isEmpty() ? "(empty)" : snippet.get(0);
            if (home == null) {
                missing.add("README.md:" + start + ": " + first);
            } else {
                System.out.println("README.md:" + start + " (" + first + ") is in " + home);
            }
        }
        if (!missing.isEmpty()) {
            System.out.println("README Java snippets not in the examples project (" + args[1] + "); add each to an"
                    + " example (its lines in order, trimmed), or fix the README:");
            missing.forEach(m -> System.out.println("  " + m));
            System.exit(1);
        }
        System.out.println(snippets + " README Java snippets, each in the examples project");
    }

    private static boolean containsInOrder(List<String> lines, List<String> snippet) {
        int at = 0;
        for (String wanted : snippet) {
            while (at < lines.size() && !lines.get(at).equals(wanted)) {
                at++;
            }
            if (at == lines.size()) {
                return false;
            }
            at++;
        }
        return true;
    }
}
