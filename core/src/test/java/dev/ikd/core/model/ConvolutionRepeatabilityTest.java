package dev.ikd.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.learn.Autograd;
import dev.ikd.core.learn.Losses;
import org.junit.jupiter.api.Test;

/**
 * The same convolution gradient, asked for again and again, must come out the same bits. PyTorch's
 * CPU convolutions (oneDNN) read the uninitialised padding of their channel blocks where a channel
 * count is not a multiple of the block: on a 4-channel CNN one gradient in a hundred differed or
 * was NaN, and a run's teacher then turned NaN from one feedback (docs/architecture.md §10). With
 * oneDNN's primitive cache off every call builds its kernels anew, and one gradient in three
 * differed; so the repeats run in a JVM of their own with the cache off.
 */
class ConvolutionRepeatabilityTest {

    @Test
    void aSmallChannelConvolutionGivesTheSameGradientEveryTime() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx1g", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
            "-Dai.djl.pytorch.num_interop_threads=1", "-cp", classPath, Repeats.class.getName(), "150");
        pb.environment().put("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "0");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(3, TimeUnit.MINUTES)).isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(p.exitValue()).as(out).isZero();
        List<String> counts = out.lines().filter(l -> l.startsWith("distinct ")).toList();
        assertThat(counts).as(out).containsExactly("distinct cnn 1", "distinct text 1");
    }

    /** Gradients of a 4-channel image CNN and of a 12-channel text model, repeated; prints how many distinct ones each gave. */
    public static final class Repeats {
        public static void main(String[] args) throws IOException {
            int repeats = Integer.parseInt(args[0]);
            try (NDManager m = NDManager.newBaseManager()) {
                report("cnn", Network.build(ModelSpec.parse("cnn:16:4,4"), "images", new long[] {1, 8, 8}, 10, 0), repeats,
                    s -> uniform(s, new Shape(32, 1, 8, 8), 1), m);
                report("text", Network.build(ModelSpec.parse("text:12:5"), "text", new long[] {20}, 2, 50), repeats,
                    s -> ids(s, 32, 20, 50), m);
            }
        }

        private static void report(String name, Network net, int repeats, java.util.function.Function<NDManager, NDArray> input,
                                   NDManager m) {
            Params theta = net.init(1, DataType.FLOAT32, m);
            Map<String, Integer> seen = new TreeMap<>();
            for (int i = 0; i < repeats; i++) {
                try (NDManager s = m.newSubManager()) {
                    NDArray x = input.apply(s);
                    int[] y = new int[(int) x.getShape().get(0)];
                    for (int j = 0; j < y.length; j++) {
                        y[j] = j % net.classes();
                    }
                    NDArray oneHot = Losses.oneHot(s, y, null, net.classes(), DataType.FLOAT32);
                    seen.merge(Autograd.of(theta, s, th -> Losses.crossEntropy(net.logits(th, x), oneHot)).gradient().sha256(), 1,
                        Integer::sum);
                }
            }
            System.out.println("distinct " + name + " " + seen.size());
        }

        private static NDArray uniform(NDManager m, Shape shape, long seed) {
            var random = new java.util.SplittableRandom(seed);
            float[] v = new float[Math.toIntExact(shape.size())];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) random.nextDouble();
            }
            return Tensors.of(m, v, shape, DataType.FLOAT32);
        }

        private static NDArray ids(NDManager m, int rows, int length, int vocabulary) {
            var random = new java.util.SplittableRandom(7);
            float[] v = new float[rows * length];
            for (int i = 0; i < v.length; i++) {
                v[i] = random.nextInt(vocabulary);
            }
            return Tensors.of(m, v, new Shape(rows, length), DataType.FLOAT32);
        }
    }
}
