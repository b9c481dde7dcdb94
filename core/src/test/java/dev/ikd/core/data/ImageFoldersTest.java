package dev.ikd.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFoldersTest {

    @TempDir
    Path dir;

    @Test
    void aFolderOfClassFoldersIsReadResampledAndSplit() throws Exception {
        Path root = TestImages.patterns(dir.resolve("grey"), 10, 1, false);
        Files.writeString(root.resolve("horizontal").resolve("notes.txt"), "not an image");
        Dataset d = Datasets.load("images:" + root, dir, Map.of(ImageFolders.SIZE, "8"));
        assertThat(d.sampleShape()).containsExactly(1, 8, 8);
        assertThat(d.classes()).isEqualTo(3);
        assertThat(d.classNames()).containsExactly("checker", "horizontal", "vertical");
        assertThat(d.trainSize() + d.testSize()).isEqualTo(30);
        assertThat(d.testSize()).isEqualTo(6);
        assertThat(d.origin().source()).isEqualTo("images:" + root);
        assertThat(d.origin().options()).isEqualTo(Map.of(ImageFolders.SIZE, "8x8", ImageFolders.CHANNELS, "1"));
        // Read again with what the run kept: the same data, bit for bit.
        assertThat(Datasets.load(d.origin().source(), dir, d.origin().options()).sha256()).isEqualTo(d.sha256());

        Path colour = TestImages.patterns(dir.resolve("colour"), 6, 2, true);
        Dataset c = Datasets.load("images:" + colour, dir, Map.of(ImageFolders.SIZE, "6x4"));
        assertThat(c.sampleShape()).containsExactly(3, 4, 6);
        assertThat(Datasets.load("images:" + colour, dir, Map.of(ImageFolders.SIZE, "6x4", ImageFolders.CHANNELS, "1"))
            .sampleShape()).containsExactly(1, 4, 6);
    }

    @Test
    void resamplingAveragesTheAreaEachNewPixelCovers() {
        BufferedImage image = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
        int[][] v = {{0, 10, 20, 30}, {40, 50, 60, 70}, {80, 90, 100, 110}, {120, 130, 140, 150}};
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                image.getRaster().setSample(x, y, 0, v[y][x]);
            }
        }
        float[] half = ImageFolders.pixels(image, 2, 2, 1);
        assertThat(half[0]).isCloseTo((0 + 10 + 40 + 50) / 4f / 255f, within(1e-6f));
        assertThat(half[3]).isCloseTo((100 + 110 + 140 + 150) / 4f / 255f, within(1e-6f));
        // Three across from four: the middle pixel takes half of the second and third old ones, and a third... by area.
        float[] three = ImageFolders.pixels(image, 3, 1, 1);
        double row = (0 + 40 + 80 + 120) / 4.0;
        double row1 = (10 + 50 + 90 + 130) / 4.0;
        assertThat(three[0]).isCloseTo((float) ((row * 1.0 + row1 / 3.0) / (4.0 / 3.0) / 255.0), within(1e-6f));
        float[] same = ImageFolders.pixels(image, 4, 4, 1);
        assertThat(same[5]).isCloseTo(50 / 255f, within(1e-6f));
    }

    @Test
    void aFolderThatIsNotOneFolderPerClassIsRefusedWithTheReason() throws Exception {
        assertThatThrownBy(() -> Datasets.load("images:" + dir.resolve("absent"), dir, Map.of()))
            .hasMessageContaining("is not a directory");
        Files.createDirectories(dir.resolve("one").resolve("cats"));
        assertThatThrownBy(() -> Datasets.load("images:" + dir.resolve("one"), dir, Map.of()))
            .hasMessageContaining("has 1 class folder(s); it needs one folder per class, at least two");
        Files.createDirectories(dir.resolve("one").resolve("dogs"));
        assertThatThrownBy(() -> Datasets.load("images:" + dir.resolve("one"), dir, Map.of()))
            .hasMessageContaining("cats holds no PNG or JPEG file");
        Path broken = TestImages.patterns(dir.resolve("broken"), 2, 3, false);
        Files.writeString(broken.resolve("vertical").resolve("zz.png"), "not a png");
        assertThatThrownBy(() -> Datasets.load("images:" + broken, dir, Map.of()))
            .hasMessageContaining("zz.png");
        assertThatThrownBy(() -> Datasets.load("images:" + broken, dir, Map.of(ImageFolders.SIZE, "0")))
            .hasMessageContaining("--image-size must be 1 to 4096 pixels a side");
        assertThatThrownBy(() -> Datasets.load("images:" + broken, dir, Map.of(ImageFolders.SIZE, "8x8x8")))
            .hasMessageContaining("--image-size must be N or WIDTHxHEIGHT");
        assertThatThrownBy(() -> Datasets.load("images:" + broken, dir, Map.of(ImageFolders.CHANNELS, "2")))
            .hasMessageContaining("--image-channels must be 1, 3 or auto");
        assertThatThrownBy(() -> Datasets.load("digits", dir, Map.of(ImageFolders.SIZE, "8")))
            .hasMessageContaining("--image-size does not go with --dataset digits");
    }

    /** Grey and colour files in one folder: every sample is what predict computes from its file with the run's options. */
    @Test
    void aMixedFolderGivesEachFileWhatReadingItAloneGives() throws Exception {
        Path root = TestImages.patterns(dir.resolve("mixed"), 3, 4, false);
        Path colour = TestImages.patterns(dir.resolve("colour"), 3, 5, true);
        for (String c : new String[] {"checker", "horizontal", "vertical"}) {
            try (var files = Files.list(colour.resolve(c))) {
                for (Path f : files.toList()) {
                    Files.copy(f, root.resolve(c).resolve("c" + f.getFileName()));
                }
            }
        }
        Dataset d = Datasets.load("images:" + root, dir, Map.of(ImageFolders.SIZE, "5"));
        assertThat(d.sampleShape()).containsExactly(3, 5, 5);
        ImageFolders.Options options = ImageFolders.Options.of(d.origin().options());
        java.util.List<Path> files;
        try (var walk = Files.walk(root)) {
            files = walk.filter(ImageFolders::isImage).sorted().toList();
        }
        int[] train = Datasets.testCut(files.size(), 0.2)[0];
        for (int i = 0; i < train.length; i++) {
            assertThat(d.trainSample(i)).as(files.get(train[i]).toString()).containsExactly(ImageFolders.pixels(files.get(train[i]),
                options));
        }
    }

    @Test
    void anImagePastThePixelLimitIsRefusedBeforeItIsDecoded() throws Exception {
        Path root = TestImages.patterns(dir.resolve("limit"), 3, 1, false);
        assertThatThrownBy(() -> Datasets.load("images:" + root, dir, java.util.Map.of(Limits.IMAGE_PIXELS, "100")))
            .isInstanceOf(MissingDataException.class)
            .hasMessageMatching(".*\\.png: \\d+x\\d+ = \\d+ pixels \\(the limit is 100; --image-max-pixels raises it\\)");
        assertThat(Datasets.load("images:" + root, dir, java.util.Map.of(Limits.IMAGE_PIXELS, "1000000")).origin().options())
            .containsEntry(Limits.IMAGE_PIXELS, "1000000");
    }
}
