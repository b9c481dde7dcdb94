package dev.ikd.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TablesTest {

    @TempDir
    Path dir;

    private Path table(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    /** 50 rows: a column in the thousands, a small one, a constant one, and a string label in the middle. */
    private Path flowers() throws Exception {
        StringBuilder b = new StringBuilder("area,species,width,const\n");
        for (int i = 0; i < 50; i++) {
            b.append(1000 + 37 * i).append(',').append(i % 3 == 0 ? "setosa" : i % 3 == 1 ? "virginica" : "versicolor").append(',')
                .append(0.1 * (i % 7)).append(",5\n");
        }
        return table("flowers.csv", b.toString());
    }

    @Test
    void aHeaderIsFoundTheLabelColumnIsChosenByNameAndStringLabelsBecomeSortedClasses() throws Exception {
        Dataset d = Datasets.csv(flowers(), new Tables.Options(Tables.Header.AUTO, "species"));
        assertThat(d.table().classNames()).containsExactly("setosa", "versicolor", "virginica");
        assertThat(d.table().featureNames()).containsExactly("area", "width", "const");
        assertThat(d.classes()).isEqualTo(3);
        assertThat(d.trainSize() + d.testSize()).isEqualTo(50);
        assertThat(d.summary()).startsWith("flowers.csv: 50 rows, 3 features, 3 classes (setosa ").endsWith("40 train / 10 test");
        assertThat(Datasets.csv(flowers(), new Tables.Options(Tables.Header.AUTO, "1")).sha256()).isEqualTo(d.sha256());
    }

    /** Past a limit, one line names the file, where, the limit and the option that raises it; given, the limit is kept with the run. */
    @Test
    void aTablePastALimitIsRefusedNamingTheOptionThatRaisesIt() throws Exception {
        Path f = flowers();
        assertThatThrownBy(() -> Datasets.load("csv:" + f, dir, java.util.Map.of(Limits.CSV_ROWS, "20")))
            .isInstanceOf(MissingDataException.class)
            .hasMessage(f + ":21: more than 20 rows (the limit is 20; --csv-max-rows raises it)");
        assertThatThrownBy(() -> Datasets.load("csv:" + f, dir, java.util.Map.of(Limits.CSV_COLUMNS, "3")))
            .hasMessage(f + ":1: 4 columns (the limit is 3; --csv-max-columns raises it)");
        Path wide = table("wide.csv", "a,b\n" + "x".repeat(2000) + ",1\n2,1\n");
        assertThatThrownBy(() -> Datasets.load("csv:" + wide, dir, java.util.Map.of()))
            .hasMessage(wide + ":2, column 1: a cell of 2000 characters (the limit is 1000; --csv-max-cell raises it)");
        assertThatThrownBy(() -> Datasets.load("csv:" + f, dir, java.util.Map.of(Limits.CSV_ROWS, "0")))
            .hasMessage("--csv-max-rows must be a whole number of at least 1, got '0'");
        Dataset raised = Datasets.load("csv:" + f, dir, java.util.Map.of(Limits.CSV_ROWS, "60", Tables.Options.LABEL_COLUMN, "species"));
        assertThat(raised.origin().options()).containsEntry(Limits.CSV_ROWS, "60");
        assertThat(Datasets.load("csv:" + f, dir, java.util.Map.of(Tables.Options.LABEL_COLUMN, "species")).origin().options())
            .doesNotContainKey(Limits.CSV_ROWS);
    }

    @Test
    void everyFeatureIsStandardisedWithTheTrainingSplitsMeanAndDeviation() throws Exception {
        Dataset d = Datasets.csv(flowers(), new Tables.Options(Tables.Header.YES, "species"));
        int n = d.trainSize();
        for (int f = 0; f < 3; f++) {
            double sum = 0;
            double squares = 0;
            for (int i = 0; i < n; i++) {
                double v = d.trainSample(i)[f];
                sum += v;
                squares += v * v;
            }
            assertThat(sum / n).as("mean of feature " + f).isCloseTo(0, within(1e-5));
            // The constant column carries nothing: zeros, not NaN.
            assertThat(squares / n).as("variance of feature " + f).isCloseTo(f == 2 ? 0 : 1, within(1e-4));
        }
        double area = d.table().mean()[0];
        assertThat(area).isBetween(1000.0, 1000.0 + 37 * 49);
        assertThat(d.table().std()[2]).isEqualTo(1.0);
    }

    @Test
    void aMissingOrNonNumericValueNamesTheFileLineAndColumn() throws Exception {
        Path missing = table("missing.csv", "a,b,label\n1,2,x\n3,,y\n");
        assertThatThrownBy(() -> Datasets.csv(missing)).isInstanceOf(MissingDataException.class)
            .hasMessage(missing + " line 3, column 'b': the value is missing");
        Path text = table("text.csv", "a,b,label\n1,2,x\n3,four,y\n");
        assertThatThrownBy(() -> Datasets.csv(text)).hasMessage(text + " line 3, column 'b': 'four' is not a number");
        Path ragged = table("ragged.csv", "1,2,0\n3,1\n");
        assertThatThrownBy(() -> Datasets.csv(ragged)).hasMessageContaining("line 2: 2 columns, expected 3");
        assertThatThrownBy(() -> Datasets.csv(text, new Tables.Options(Tables.Header.AUTO, "kind")))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("its columns: a, b, label");
    }

    @Test
    void tabSeparatedHeaderlessAndQuotedTablesAreRead() throws Exception {
        Path tsv = table("t.tsv", "0.5\t1\t0\n0.1\t2\t1\n0.2\t3\t1\n1\t1\t0\n0\t0\t0\n");
        Dataset t = Datasets.csv(tsv);
        assertThat(t.trainSize() + t.testSize()).isEqualTo(5);
        assertThat(t.table().classNames()).containsExactly("0", "1");
        Path quoted = table("q.csv", "\"size, in cm\",label\n2,b\n\"1,5\",a\n3,a\n4,b\n5,a\n");
        assertThatThrownBy(() -> Datasets.csv(quoted)).hasMessageEndingWith("line 3, column 'size, in cm': '1,5' is not a number");
        Path numbers = table("n.csv", "1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,10,0\n");
        assertThat(Datasets.csv(numbers, new Tables.Options(Tables.Header.NO, "0")).table().classNames())
            .containsExactly("1", "3", "5", "7", "9");
    }

    @Test
    void labelsThatCountFromZeroKeepTheirNumbersAndOthersAreSorted() {
        assertThat(Tables.classNames(new String[] {"2", "0", "1", "10", "3", "4", "5", "6", "7", "8", "9"}))
            .isEqualTo(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"));
        assertThat(Tables.classNames(new String[] {"5", "10", "7"})).containsExactly("5", "7", "10");
        assertThat(Tables.classNames(new String[] {"b", "a", "c"})).containsExactly("a", "b", "c");
    }

    @Test
    void rowsToPredictAreFoundByNameOrPosition() throws Exception {
        List<String> features = List.of("area", "width");
        Path named = table("named.csv", "species,width,area\nx,1.5,10\ny,2,20\n");
        assertThat(Tables.rows(named, features)).containsExactly(new float[] {10, 1.5f}, new float[] {20, 2});
        Path plain = table("plain.csv", "10,1.5\n20,2\n");
        assertThat(Tables.rows(plain, features)).containsExactly(new float[] {10, 1.5f}, new float[] {20, 2});
        Path wide = table("wide.csv", "10,1.5,x\n");
        assertThatThrownBy(() -> Tables.rows(wide, features)).hasMessage(wide + " has 3 columns and no header; the model takes 2 "
            + "features (area, width): give them in that order, or a header row naming them");
        Path other = table("other.csv", "area,height\n1,2\n");
        assertThatThrownBy(() -> Tables.rows(other, features)).hasMessage(other + " has no column 'width'; the model takes area, width");
        Path bad = table("bad.csv", "area,width\n1,two\n");
        assertThatThrownBy(() -> Tables.rows(bad, features)).hasMessage(bad + " line 2, column 'width': 'two' is not a number");
        Dataset read = Datasets.csv(table("t.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,9,x\n"));
        assertThat(read.origin().options()).isEqualTo(java.util.Map.of(Tables.Options.HEADER, "yes", Tables.Options.LABEL_COLUMN, "2"));
        assertThat(read.origin().source()).startsWith("csv:").endsWith("t.csv");
    }
}
