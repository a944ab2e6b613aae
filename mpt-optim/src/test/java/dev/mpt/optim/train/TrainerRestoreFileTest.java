package dev.mpt.optim.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.TestModels;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Trainer#restore} from a path that is not a checkpoint file says which path and what to do. */
class TrainerRestoreFileTest {

    @Test
    void aMissingFileOrADirectoryIsNamed(@TempDir Path dir) {
        Trainer t = Trainer.builder(TestModels.mlp(4, 3, 2, 1)).optimizer(new Sgd(0.1, 0.9)).loss(Losses::crossEntropy)
                .logEvery(0).build();
        Path missing = dir.resolve("run.safetensors");
        var e = assertThrows(NoSuchFileException.class, () -> t.restore(missing));
        assertEquals(missing + ": no such checkpoint file. Check the path, or save a checkpoint there first",
                e.getMessage());
        var d = assertThrows(FileSystemException.class, () -> t.restore(dir));
        assertEquals(dir + ": is a directory, not a safetensors file; name the checkpoint file itself", d.getMessage());
    }
}
