package dev.mpt.core;

import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * An n-dimensional array of FP32, FP16 or BF16 numbers with reverse-mode autograd.
 *
 * <h2>Storage and views</h2>
 * FP32 elements live in a {@code float[]}, FP16 and BF16 elements in a {@code short[]} of bit
 * patterns. A tensor is a strided window (shape, strides, offset) on that storage. The view
 * operations {@link #reshape}, {@link #permute}, {@link #transpose}, {@link #narrow},
 * {@link #select}, {@link #expand}, {@link #unsqueeze}, {@link #squeeze} and {@link #detach} share
 * storage with their source: a write through a view (the in-place methods ending in {@code _}) is
 * visible in the source. {@link #contiguous()} copies only when the layout is not row-major.
 *
 * <h2>Precision (the paper's autocast rules)</h2>
 * <ul>
 * <li>Point-wise ops produce the input's dtype; each element is computed in FP32 from exactly
 *     widened inputs and rounded once (round to nearest even).
 * <li>{@link #matmul}, {@link #conv2d}, {@link #convTranspose2d}: FP16 x FP16 -> FP16, BF16 x
 *     BF16 -> BF16, FP32 x FP32 -> FP32, with FP32 accumulation (the paper's FP16 arithmetic).
 * <li>{@link #indexSelect}, {@link #gather}, {@link #cat}, {@link #stack}, {@link #max},
 *     {@link #maxPool2d} and the views copy values exactly.
 * <li>{@link #sum}, {@link #mean}, {@link #variance}, {@link #softmax}, {@link #logSoftmax}
 *     return FP32 (accumulated in double, rounded once). {@link #max} returns the input's dtype
 *     (it is exact), {@link #argmax} returns indices as FP32 (exact up to 2^24).
 * <li>Binary ops require both operands to have the same dtype and throw
 *     {@link IllegalArgumentException} otherwise ("add: dtype mismatch FP16 vs FP32; convert one
 *     with to(DType)"). Shapes broadcast by numpy's rules.
 * </ul>
 *
 * <h2>Autograd</h2>
 * A leaf created with {@code requiresGrad(true)} records every op applied to it (outside a
 * {@link NoGrad} scope); {@link #backward()} walks the graph in reverse topological order
 * (iteratively, so deep graphs are fine), accumulates ({@code +=}) gradients into the leaves'
 * {@link #grad()} and releases the graph. Gradients flow in FP32; the gradient of every 16-bit
 * tensor in the graph is rounded once to its dtype when complete, and a leaf's gradient has the
 * leaf's dtype (an FP16 weight gets an FP16 gradient, as in the paper). In-place methods are not
 * recorded and are refused on tensors produced by a recorded op.
 *
 * <h2>Raw access</h2>
 * {@link #floatData()} and {@link #shortData()} expose the live storage of contiguous tensors
 * (for optimizers and kernels in other modules); {@link #copy_(float[], int)},
 * {@link #copyTo(float[], int)}, {@link #fill_(float)} and {@link #zero_()} move data in and out
 * with one rounding to the tensor's dtype.
 *
 * <p>Tensors are not thread-safe; distinct tensors may be used from distinct threads.
 */
public final class Tensor {

    /** Elements printed per dimension at each end by {@link #toString()} when it truncates. */
    private static final int PRINT_EDGE = 3;
    /** Tensors with more elements than this are printed truncated. */
    private static final int PRINT_LIMIT = 1000;

    final DType dtype;
    /** The FP32 storage; null unless the dtype is FP32. */
    final float[] floats;
    /** The FP16 or BF16 storage as bit patterns; null when the dtype is FP32. */
    final short[] shorts;
    final int offset;
    final int[] shape;
    final int[] strides;
    final int numel;

    boolean requiresGrad;
    Tensor grad;
    Node node;

    Tensor(DType dtype, float[] floats, short[] shorts, int offset, int[] shape, int[] strides) {
        this.dtype = dtype;
        this.floats = floats;
        this.shorts = shorts;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        this.numel = n;
    }

    // ---------------------------------------------------------------- creation

    /** A new FP32 tensor of zeros. */
    public static Tensor zeros(int... shape) {
        return zeros(DType.FP32, shape);
    }

    /** A new tensor of zeros of {@code dtype}. */
    public static Tensor zeros(DType dtype, int... shape) {
        Objects.requireNonNull(dtype, "zeros: dtype");
        int[] s = checkShape("zeros", shape);
        int n = Strided.numel("zeros", s);
        return dtype == DType.FP32
                ? new Tensor(dtype, new float[n], null, 0, s, Strided.contiguousStrides(s))
                : new Tensor(dtype, null, new short[n], 0, s, Strided.contiguousStrides(s));
    }

    /** A new FP32 tensor of ones. */
    public static Tensor ones(int... shape) {
        return full(DType.FP32, 1f, shape);
    }

    /** A new tensor of ones of {@code dtype}. */
    public static Tensor ones(DType dtype, int... shape) {
        return full(dtype, 1f, shape);
    }

    /** A new FP32 tensor filled with {@code value}. */
    public static Tensor full(float value, int... shape) {
        return full(DType.FP32, value, shape);
    }

    /** A new tensor of {@code dtype} filled with {@code value} rounded to {@code dtype}. */
    public static Tensor full(DType dtype, float value, int... shape) {
        Tensor t = zeros(dtype, shape);
        t.fill_(value);
        return t;
    }

    /** A rank-0 FP32 tensor holding {@code value}. */
    public static Tensor scalar(float value) {
        return new Tensor(DType.FP32, new float[] {value}, null, 0, new int[0], new int[0]);
    }

    /**
     * A new FP32 tensor of {@code shape} holding a copy of {@code data} in row-major order. Use
     * {@code of(data, shape).to(DType.FP16)} for a correctly rounded FP16 tensor.
     *
     * @throws IllegalArgumentException if {@code data.length} differs from the shape's size
     */
    public static Tensor of(float[] data, int... shape) {
        Objects.requireNonNull(data, "of: data");
        int[] s = checkShape("of", shape);
        int n = Strided.numel("of", s);
        if (data.length != n) {
            throw new IllegalArgumentException("of: data has " + data.length + " elements but shape "
                    + Arrays.toString(s) + " needs " + n);
        }
        return new Tensor(DType.FP32, data.clone(), null, 0, s, Strided.contiguousStrides(s));
    }

    /** A new tensor of {@code dtype} with elements uniform in [0, 1) drawn from {@code rng}, then rounded. */
    public static Tensor rand(RandomGenerator rng, DType dtype, int... shape) {
        Objects.requireNonNull(rng, "rand: rng");
        Objects.requireNonNull(dtype, "rand: dtype");
        int[] s = checkShape("rand", shape);
        float[] v = new float[Strided.numel("rand", s)];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextFloat();
        }
        return Conversions.wrap(v, dtype, s);
    }

    /** A new tensor of {@code dtype} with standard normal elements drawn from {@code rng}, then rounded. */
    public static Tensor randn(RandomGenerator rng, DType dtype, int... shape) {
        Objects.requireNonNull(rng, "randn: rng");
        Objects.requireNonNull(dtype, "randn: dtype");
        int[] s = checkShape("randn", shape);
        float[] v = new float[Strided.numel("randn", s)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return Conversions.wrap(v, dtype, s);
    }

    /** The FP32 vector {@code [0, 1, ..., n-1]}. */
    public static Tensor arange(int n) {
        return arange(0, n, 1);
    }

    /**
     * The FP32 vector {@code start, start+step, ...} of the values below {@code end} (above, when
     * {@code step < 0}); element i is {@code (float) (start + i * step)} computed in double.
     */
    public static Tensor arange(double start, double end, double step) {
        if (step == 0 || !Double.isFinite(step) || !Double.isFinite(start) || !Double.isFinite(end)) {
            throw new IllegalArgumentException("arange: need finite start, end and a non-zero step, got start="
                    + start + ", end=" + end + ", step=" + step);
        }
        double count = Math.ceil((end - start) / step);
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("arange: " + count + " elements is too many");
        }
        int n = (int) Math.max(0, count);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (start + i * step);
        }
        return new Tensor(DType.FP32, v, null, 0, new int[] {n}, new int[] {1});
    }

    private static int[] checkShape(String op, int[] shape) {
        Objects.requireNonNull(shape, () -> op + ": shape");
        Strided.numel(op, shape);
        return shape.clone();
    }

    // ---------------------------------------------------------------- accessors

    /** The element type. */
    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** The number of dimensions (0 for a scalar). */
    public int dim() {
        return shape.length;
    }

    /** The size of dimension {@code dim} (negative counts from the end). */
    public int size(int dim) {
        return shape[Strided.dim("size", dim, shape.length)];
    }

    /** The number of elements. */
    public int numel() {
        return numel;
    }

    /** A copy of the strides, in elements. */
    public int[] strides() {
        return strides.clone();
    }

    /** The index of this tensor's first element in its storage array. */
    public int storageOffset() {
        return offset;
    }

    /** Whether the elements are laid out row-major without gaps from {@link #storageOffset()}. */
    public boolean isContiguous() {
        return Strided.isContiguous(shape, strides);
    }

    // ---------------------------------------------------------------- raw data

    /**
     * The live FP32 storage of this contiguous FP32 tensor: element i (row-major) is
     * {@code floatData()[storageOffset() + i]}. Writes are visible to every view of the storage
     * and are not recorded by autograd.
     *
     * @throws IllegalStateException if the tensor is not FP32 or not contiguous
     */
    public float[] floatData() {
        if (dtype != DType.FP32 || !isContiguous()) {
            throw new IllegalStateException("floatData: needs a contiguous FP32 tensor, this is " + dtype
                    + (isContiguous() ? "" : " non-contiguous") + "; use contiguous() or to(DType.FP32)");
        }
        return floats;
    }

    /**
     * The live 16-bit storage (bit patterns) of this contiguous FP16 or BF16 tensor: element i
     * (row-major) is {@code shortData()[storageOffset() + i]}. Writes are visible to every view of
     * the storage and are not recorded by autograd.
     *
     * @throws IllegalStateException if the tensor is FP32 or not contiguous
     */
    public short[] shortData() {
        if (dtype == DType.FP32 || !isContiguous()) {
            throw new IllegalStateException("shortData: needs a contiguous FP16 or BF16 tensor, this is " + dtype
                    + (isContiguous() ? "" : " non-contiguous") + "; use contiguous() or to(DType)");
        }
        return shorts;
    }

    /** A new array with the elements in row-major order, widened exactly to FP32. */
    public float[] toFloatArray() {
        float[] v = readFloats();
        return v == floats ? v.clone() : v;
    }

    /**
     * The elements in row-major order as FP32. May return the live storage (when FP32, contiguous
     * and spanning the whole array); callers must not write to the result.
     */
    float[] readFloats() {
        if (dtype == DType.FP32) {
            if (offset == 0 && floats.length == numel && isContiguous()) {
                return floats;
            }
            float[] out = new float[numel];
            if (isContiguous()) {
                System.arraycopy(floats, offset, out, 0, numel);
            } else {
                Strided.gather(floats, offset, shape, strides, out, 0);
            }
            return out;
        }
        float[] out = new float[numel];
        if (isContiguous()) {
            Conversions.widen(dtype, shorts, offset, out, 0, numel);
        } else {
            short[] tmp = new short[numel];
            Strided.gather(shorts, offset, shape, strides, tmp, 0);
            Conversions.widen(dtype, tmp, 0, out, 0, numel);
        }
        return out;
    }

    /** The single element of a one-element tensor, as FP32. */
    public float item() {
        if (numel != 1) {
            throw new IllegalStateException("item: tensor has " + numel + " elements (shape "
                    + Arrays.toString(shape) + "), need exactly 1");
        }
        return elementAt(offset);
    }

    /** The element at {@code index} (one index per dimension), as FP32. */
    public float get(int... index) {
        return elementAt(storageIndex("get", index));
    }

    private int storageIndex(String op, int[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException(op + ": " + index.length + " indices for a tensor of rank "
                    + shape.length);
        }
        int p = offset;
        for (int d = 0; d < index.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IllegalArgumentException(op + ": index " + Arrays.toString(index) + " out of bounds for shape "
                        + Arrays.toString(shape));
            }
            p += index[d] * strides[d];
        }
        return p;
    }

    private float elementAt(int p) {
        return switch (dtype) {
            case FP32 -> floats[p];
            case FP16 -> Float.float16ToFloat(shorts[p]);
            case BF16 -> Float.intBitsToFloat(shorts[p] << 16);
        };
    }

    /**
     * Whether every element is finite (no NaN, no infinity), e.g. the loss scaler's overflow check
     * on gradients. Contiguous tensors are scanned in place, 16-bit ones by their exponent bits.
     */
    public boolean allFinite() {
        if (!isContiguous()) {
            return contiguous().detach().allFinite();
        }
        if (dtype == DType.FP32) {
            boolean ok = true;
            for (int i = offset, end = offset + numel; i < end; i++) {
                ok &= Float.isFinite(floats[i]);
            }
            return ok;
        }
        int exp = dtype == DType.FP16 ? 0x7c00 : 0x7f80; // all-ones exponent: infinity or NaN
        boolean ok = true;
        for (int i = offset, end = offset + numel; i < end; i++) {
            ok &= (shorts[i] & exp) != exp;
        }
        return ok;
    }

    /** Bytes of element storage this tensor spans ({@code numel() * dtype().byteSize()}). */
    public long nbytes() {
        return (long) numel * dtype.byteSize();
    }

    // ---------------------------------------------------------------- in-place (not recorded)

    private void checkInPlace(String op) {
        if (node != null && NoGrad.isGradEnabled()) {
            throw new IllegalStateException(op + ": in-place write to a tensor produced by a recorded op ('"
                    + node.op + "') would corrupt its gradient; detach() it or write inside a NoGrad scope");
        }
    }

    /** Sets every element to {@code value} rounded to this dtype; returns this. */
    public Tensor fill_(float value) {
        checkInPlace("fill_");
        float[] v = new float[numel];
        Arrays.fill(v, value);
        writeFloats(v);
        return this;
    }

    /** Sets every element to zero; returns this. */
    public Tensor zero_() {
        return fill_(0f);
    }

    /**
     * Copies {@code src} (row-major, {@link #numel()} values) into this tensor's elements, each
     * rounded once to this dtype; returns this. Writes through views land in the base storage.
     */
    public Tensor copy_(float[] src) {
        Objects.requireNonNull(src, "copy_: src");
        checkInPlace("copy_");
        if (src.length != numel) {
            throw new IllegalArgumentException("copy_: src has " + src.length + " values, tensor of shape "
                    + Arrays.toString(shape) + " has " + numel);
        }
        writeFloats(src);
        return this;
    }

    /**
     * Copies {@code src[srcOff .. srcOff + numel())} (row-major) into this tensor's elements, each
     * rounded once to this dtype, e.g. from a flat FP32 master-weight buffer; returns this.
     */
    public Tensor copy_(float[] src, int srcOff) {
        Objects.requireNonNull(src, "copy_: src");
        checkInPlace("copy_");
        if (srcOff < 0 || srcOff > src.length - numel) {
            throw new IllegalArgumentException("copy_: " + numel + " values from offset " + srcOff
                    + " exceed src of length " + src.length);
        }
        if (srcOff == 0 && src.length == numel) {
            writeFloats(src);
        } else {
            writeFloats(Arrays.copyOfRange(src, srcOff, srcOff + numel));
        }
        return this;
    }

    /**
     * Writes the elements (row-major, widened exactly to FP32) to {@code dst[dstOff ..]} without
     * allocating when this tensor is contiguous, e.g. to read 16-bit gradients into an FP32 buffer.
     */
    public void copyTo(float[] dst, int dstOff) {
        Objects.requireNonNull(dst, "copyTo: dst");
        if (dstOff < 0 || dstOff > dst.length - numel) {
            throw new IllegalArgumentException("copyTo: " + numel + " values at offset " + dstOff
                    + " exceed dst of length " + dst.length);
        }
        if (!isContiguous()) {
            System.arraycopy(readFloats(), 0, dst, dstOff, numel);
        } else if (dtype == DType.FP32) {
            System.arraycopy(floats, offset, dst, dstOff, numel);
        } else {
            Conversions.widen(dtype, shorts, offset, dst, dstOff, numel);
        }
    }

    /**
     * Copies the elements of {@code src} (same shape, any dtype) into this tensor, rounded once to
     * this dtype; returns this.
     */
    public Tensor copy_(Tensor src) {
        Objects.requireNonNull(src, "copy_: src");
        checkInPlace("copy_");
        if (!Arrays.equals(src.shape, shape)) {
            throw new IllegalArgumentException("copy_: shape " + Arrays.toString(src.shape) + " into shape "
                    + Arrays.toString(shape));
        }
        if (src.dtype == dtype && dtype != DType.FP32) {
            short[] bits = new short[numel];
            if (src.isContiguous()) {
                System.arraycopy(src.shorts, src.offset, bits, 0, numel);
            } else {
                Strided.gather(src.shorts, src.offset, src.shape, src.strides, bits, 0);
            }
            Strided.scatter(bits, 0, shorts, offset, shape, strides);
            return this;
        }
        writeFloats(src.readFloats());
        return this;
    }

    /** Writes row-major FP32 values into this tensor's elements, rounding once to the dtype. */
    void writeFloats(float[] v) {
        if (dtype == DType.FP32) {
            if (isContiguous()) {
                System.arraycopy(v, 0, floats, offset, numel);
            } else {
                Strided.scatter(v, 0, floats, offset, shape, strides);
            }
            return;
        }
        if (isContiguous()) {
            Conversions.narrow(dtype, v, 0, shorts, offset, numel);
        } else {
            short[] bits = new short[numel];
            Conversions.narrow(dtype, v, 0, bits, 0, numel);
            Strided.scatter(bits, 0, shorts, offset, shape, strides);
        }
    }

    // ---------------------------------------------------------------- conversion and views

    /**
     * This tensor in {@code dtype}: itself when the dtype already matches, else a new contiguous
     * tensor, each element rounded once (round to nearest even). Differentiable.
     */
    public Tensor to(DType dtype) {
        Objects.requireNonNull(dtype, "to: dtype");
        if (dtype == this.dtype) {
            return this;
        }
        Tensor out = Conversions.wrap(readFloats(), dtype, shape);
        return Autograd.record(out, "to", g -> new Tensor[] {g}, this);
    }

    /** This tensor when contiguous, else a contiguous copy. Differentiable. */
    public Tensor contiguous() {
        return isContiguous() ? this : Views.copy(this);
    }

    /** A view sharing storage with this tensor but cut from the graph: no grad, no history. */
    public Tensor detach() {
        return new Tensor(dtype, floats, shorts, offset, shape, strides);
    }

    /**
     * A tensor with the same elements in row-major order and shape {@code newShape} (one size may
     * be -1, inferred). A view when the layout allows, else a copy. Differentiable.
     */
    public Tensor reshape(int... newShape) {
        return Views.reshape(this, newShape);
    }

    /** A view with the dimensions reordered: dimension i of the result is dimension {@code dims[i]}. */
    public Tensor permute(int... dims) {
        return Views.permute(this, dims);
    }

    /** A view with dimensions {@code d0} and {@code d1} swapped. */
    public Tensor transpose(int d0, int d1) {
        int r = shape.length;
        int a = Strided.dim("transpose", d0, r);
        int b = Strided.dim("transpose", d1, r);
        int[] p = new int[r];
        for (int i = 0; i < r; i++) {
            p[i] = i;
        }
        p[a] = b;
        p[b] = a;
        return Views.permute(this, p);
    }

    /** The transpose of a 2-D tensor, as a view. */
    public Tensor t() {
        if (shape.length != 2) {
            throw new IllegalArgumentException("t: needs a 2-D tensor, got shape " + Arrays.toString(shape));
        }
        return transpose(0, 1);
    }

    /** A view of {@code length} entries of dimension {@code dim} starting at {@code start}. */
    public Tensor narrow(int dim, int start, int length) {
        return Views.narrow(this, dim, start, length);
    }

    /** A view of entry {@code index} of dimension {@code dim}, with that dimension removed. */
    public Tensor select(int dim, int index) {
        int d = Strided.dim("select", dim, shape.length);
        return narrow(d, index, 1).squeeze(d);
    }

    /**
     * A view broadcast to {@code newShape} (numpy rules: new leading dims, or size-1 dims
     * expanded) without copying: expanded dims have stride 0. Writing to an expanded view writes
     * the shared element several times.
     */
    public Tensor expand(int... newShape) {
        return Views.expand(this, newShape);
    }

    /** A view with a size-1 dimension inserted at {@code dim} (0..dim()). */
    public Tensor unsqueeze(int dim) {
        int d = Strided.dim("unsqueeze", dim, shape.length + 1);
        int[] s = new int[shape.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            s[i] = i == d ? 1 : shape[j++];
        }
        return Views.reshape(this, s);
    }

    /** A view with the size-1 dimension {@code dim} removed. */
    public Tensor squeeze(int dim) {
        int d = Strided.dim("squeeze", dim, shape.length);
        if (shape[d] != 1) {
            throw new IllegalArgumentException("squeeze: dim " + dim + " has size " + shape[d] + ", not 1 (shape "
                    + Arrays.toString(shape) + ")");
        }
        int[] s = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != d) {
                s[j++] = shape[i];
            }
        }
        return Views.reshape(this, s);
    }

    // ---------------------------------------------------------------- point-wise

    /** {@code this + other}, broadcast. */
    public Tensor add(Tensor other) {
        return Pointwise.binary(Binary.ADD, this, other);
    }

    /** {@code this - other}, broadcast. */
    public Tensor sub(Tensor other) {
        return Pointwise.binary(Binary.SUB, this, other);
    }

    /** {@code this * other}, broadcast. */
    public Tensor mul(Tensor other) {
        return Pointwise.binary(Binary.MUL, this, other);
    }

    /** {@code this / other}, broadcast. */
    public Tensor div(Tensor other) {
        return Pointwise.binary(Binary.DIV, this, other);
    }

    /** Element-wise {@code max(this, other)}, broadcast; the gradient goes to the larger (ties: this). */
    public Tensor maximum(Tensor other) {
        return Pointwise.binary(Binary.MAX, this, other);
    }

    /** Element-wise {@code min(this, other)}, broadcast; the gradient goes to the smaller (ties: this). */
    public Tensor minimum(Tensor other) {
        return Pointwise.binary(Binary.MIN, this, other);
    }

    /** 1 where {@code this > other}, else 0, in this dtype (not differentiable). */
    public Tensor gt(Tensor other) {
        return Pointwise.binary(Binary.GT, this, other);
    }

    /** 1 where {@code this < other}, else 0, in this dtype (not differentiable). */
    public Tensor lt(Tensor other) {
        return Pointwise.binary(Binary.LT, this, other);
    }

    /** 1 where {@code this >= other}, else 0, in this dtype (not differentiable). */
    public Tensor ge(Tensor other) {
        return Pointwise.binary(Binary.GE, this, other);
    }

    /** 1 where {@code this <= other}, else 0, in this dtype (not differentiable). */
    public Tensor le(Tensor other) {
        return Pointwise.binary(Binary.LE, this, other);
    }

    /** 1 where {@code this == other}, else 0, in this dtype (not differentiable). */
    public Tensor eq(Tensor other) {
        return Pointwise.binary(Binary.EQ, this, other);
    }

    /** 1 where {@code this != other}, else 0, in this dtype (not differentiable). */
    public Tensor ne(Tensor other) {
        return Pointwise.binary(Binary.NE, this, other);
    }

    /**
     * Element-wise {@code cond != 0 ? a : b}, all three broadcast together; {@code a} and
     * {@code b} must share a dtype (the result's), {@code cond} may have any dtype.
     */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        return Pointwise.where(cond, a, b);
    }

    /** {@code this + c}. */
    public Tensor add(float c) {
        return Pointwise.unary(Unary.ADD_SCALAR, this, c, 0f);
    }

    /** {@code this - c}. */
    public Tensor sub(float c) {
        return Pointwise.unary(Unary.ADD_SCALAR, this, -c, 0f);
    }

    /** {@code this * c}. */
    public Tensor mul(float c) {
        return Pointwise.unary(Unary.MUL_SCALAR, this, c, 0f);
    }

    /** {@code this / c} (a true division, not a multiplication by 1/c). */
    public Tensor div(float c) {
        return Pointwise.unary(Unary.DIV_SCALAR, this, c, 0f);
    }

    /** {@code -this}. */
    public Tensor neg() {
        return Pointwise.unary(Unary.NEG, this, 0f, 0f);
    }

    /** {@code e^this}. */
    public Tensor exp() {
        return Pointwise.unary(Unary.EXP, this, 0f, 0f);
    }

    /** Natural logarithm. */
    public Tensor log() {
        return Pointwise.unary(Unary.LOG, this, 0f, 0f);
    }

    /** {@code log(1 + this)}, accurate for small arguments. */
    public Tensor log1p() {
        return Pointwise.unary(Unary.LOG1P, this, 0f, 0f);
    }

    /** Square root. */
    public Tensor sqrt() {
        return Pointwise.unary(Unary.SQRT, this, 0f, 0f);
    }

    /** {@code this^p} for a constant exponent {@code p}. */
    public Tensor pow(float p) {
        return Pointwise.unary(Unary.POW, this, p, 0f);
    }

    /** Absolute value (gradient 0 at 0). */
    public Tensor abs() {
        return Pointwise.unary(Unary.ABS, this, 0f, 0f);
    }

    /** {@code max(this, 0)} (gradient 0 at 0). */
    public Tensor relu() {
        return Pointwise.unary(Unary.RELU, this, 0f, 0f);
    }

    /** {@code x > 0 ? x : slope * x}. */
    public Tensor leakyRelu(float slope) {
        return Pointwise.unary(Unary.LEAKY_RELU, this, slope, 0f);
    }

    /** {@code 1 / (1 + e^-x)}. */
    public Tensor sigmoid() {
        return Pointwise.unary(Unary.SIGMOID, this, 0f, 0f);
    }

    /** Hyperbolic tangent. */
    public Tensor tanh() {
        return Pointwise.unary(Unary.TANH, this, 0f, 0f);
    }

    /**
     * GELU in its tanh approximation (Hendrycks and Gimpel):
     * {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}; differs from the erf form by less
     * than 5e-4 absolute.
     */
    public Tensor gelu() {
        return Pointwise.unary(Unary.GELU, this, 0f, 0f);
    }

    /** {@code min(max(this, lo), hi)}; the gradient passes where {@code lo <= x <= hi}. */
    public Tensor clamp(float lo, float hi) {
        if (!(lo <= hi)) {
            throw new IllegalArgumentException("clamp: need lo <= hi, got lo=" + lo + ", hi=" + hi);
        }
        return Pointwise.unary(Unary.CLAMP, this, lo, hi);
    }

    // ---------------------------------------------------------------- reductions

    /** Sum of all elements, a rank-0 FP32 tensor. */
    public Tensor sum() {
        return Reduce.sum(this, allDims(), false, false);
    }

    /** Sum over {@code dim} (dropped from the shape), FP32. */
    public Tensor sum(int dim) {
        return Reduce.sum(this, new int[] {dim}, false, false);
    }

    /** Sum over {@code dim}, FP32; {@code keepDim} keeps it with size 1. */
    public Tensor sum(int dim, boolean keepDim) {
        return Reduce.sum(this, new int[] {dim}, keepDim, false);
    }

    /** Sum over {@code dims}, FP32; {@code keepDim} keeps them with size 1. */
    public Tensor sum(int[] dims, boolean keepDim) {
        return Reduce.sum(this, dims, keepDim, false);
    }

    /** Mean of all elements, a rank-0 FP32 tensor. */
    public Tensor mean() {
        return Reduce.sum(this, allDims(), false, true);
    }

    /** Mean over {@code dim}, FP32. */
    public Tensor mean(int dim) {
        return Reduce.sum(this, new int[] {dim}, false, true);
    }

    /** Mean over {@code dim}, FP32; {@code keepDim} keeps it with size 1. */
    public Tensor mean(int dim, boolean keepDim) {
        return Reduce.sum(this, new int[] {dim}, keepDim, true);
    }

    /** Mean over {@code dims}, FP32; {@code keepDim} keeps them with size 1. */
    public Tensor mean(int[] dims, boolean keepDim) {
        return Reduce.sum(this, dims, keepDim, true);
    }

    /**
     * Variance over {@code dims} in FP32: {@code sum (x - mean)^2 / (n - 1)} when {@code unbiased},
     * else {@code / n}; two passes in double.
     */
    public Tensor variance(int[] dims, boolean unbiased, boolean keepDim) {
        return Reduce.variance(this, dims, unbiased, keepDim);
    }

    /** Largest element, rank 0, this dtype. The gradient goes to the first maximal element. */
    public Tensor max() {
        return Reduce.max(this, allDims(), false);
    }

    /** Largest element along {@code dim}, this dtype; the gradient goes to the first maximal one. */
    public Tensor max(int dim, boolean keepDim) {
        return Reduce.max(this, new int[] {dim}, keepDim);
    }

    /** Largest element over {@code dims}, this dtype; the gradient goes to the first maximal one. */
    public Tensor max(int[] dims, boolean keepDim) {
        return Reduce.max(this, dims, keepDim);
    }

    /** Index (as FP32) of the first largest element along {@code dim}; NaN counts as largest. */
    public Tensor argmax(int dim, boolean keepDim) {
        return Reduce.argmax(this, dim, keepDim);
    }

    /** Softmax along {@code dim}, FP32 ({@code exp(x - max) / sum exp(x - max)}, sums in double). */
    public Tensor softmax(int dim) {
        return Reduce.softmax(this, dim, false);
    }

    /** Log-softmax along {@code dim}, FP32 ({@code x - max - log sum exp(x - max)}, sums in double). */
    public Tensor logSoftmax(int dim) {
        return Reduce.softmax(this, dim, true);
    }

    private int[] allDims() {
        int[] d = new int[shape.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = i;
        }
        return d;
    }

    // ---------------------------------------------------------------- indexing and joining

    /**
     * The entries {@code index} of dimension {@code dim} (repeats allowed), copied exactly, e.g.
     * an embedding lookup {@code table.indexSelect(0, tokens)}. The gradient is scatter-added.
     */
    public Tensor indexSelect(int dim, int... index) {
        return Index.indexSelect(this, dim, index);
    }

    /**
     * {@code out[i][j]... = this[..., index[i][j]..., ...]} with the index value taking the place
     * of dimension {@code dim} (PyTorch's {@code gather}); {@code index} has this tensor's rank,
     * sizes no larger than this tensor's off {@code dim}, and integral values in any dtype
     * (FP32 holds integers exactly up to 2^24). E.g. the log-probabilities of the labels:
     * {@code logp.gather(1, labels.reshape(-1, 1))}. The gradient is scatter-added.
     */
    public Tensor gather(int dim, Tensor index) {
        return Index.gather(this, dim, index);
    }

    /** Concatenation along {@code dim} of tensors of one dtype whose other sizes agree. */
    public static Tensor cat(int dim, Tensor... tensors) {
        return Concat.cat(dim, tensors);
    }

    /** Stacks equal-shaped tensors along a new dimension {@code dim}. */
    public static Tensor stack(int dim, Tensor... tensors) {
        return Concat.stack(dim, tensors);
    }

    /**
     * Inverted dropout for training: each element is zeroed with probability {@code p} (drawn
     * from {@code rng}) and the others multiplied by {@code 1/(1-p)}, in FP32 and rounded once to
     * this dtype; the mask is kept for the gradient. Returns this tensor when {@code p == 0}.
     */
    public Tensor dropout(double p, RandomGenerator rng) {
        return DropoutOp.dropout(this, p, rng);
    }

    // ---------------------------------------------------------------- matmul

    /**
     * Matrix product. 2-D: (m x k) (k x n) -> (m x n). With more dims, the leading (batch) dims
     * broadcast and the last two multiply. Both operands need the same dtype; the result has that
     * dtype, accumulated in FP32 (the paper's FP16 arithmetic with FP32 accumulation). Transposed
     * views are passed to the GEMM kernel as transposes, without copying.
     */
    public Tensor matmul(Tensor other) {
        return MatMul.matmul(this, other);
    }

    /**
     * The fully connected layer {@code this @ weight^T + bias} for this input {@code [batch, in]},
     * {@code weight [out, in]} and {@code bias [out]}, all of one dtype, as one op: the bias is added
     * while the product is stored, saving a pass and a tensor. The result is bit for bit
     * {@code matmul(weight.t()).add(bias)} (the product rounded once to the dtype, then the bias
     * added in FP32 and rounded once more), and so are the gradients. Inputs of other ranks run
     * that composition.
     *
     * @throws IllegalArgumentException if the dtypes differ, weight is not 2-D, bias is not
     *         {@code [out]}, or the inner dimensions differ
     */
    public Tensor linear(Tensor weight, Tensor bias) {
        return MatMul.linear(this, weight, bias);
    }

    // ---------------------------------------------------------------- normalization

    /**
     * Batch normalization of this {@code [N, C, ...]} tensor over every dimension but the channel
     * dimension 1, fused into one op (PyTorch's {@code batch_norm}).
     *
     * <p>In training mode each channel is normalized with the batch's mean and biased variance,
     * accumulated in double over its elements; when given, {@code runningMean} and {@code
     * runningVar} are then updated in place: {@code running = (1 - momentum) * running + momentum *
     * batchStat}, with the unbiased variance fed to {@code runningVar}. In evaluation mode the
     * running statistics normalize and are not changed. Then {@code y = xhat * weight + bias}
     * (each optional), computed in FP32 and rounded once to this dtype. Differentiable in this
     * tensor, {@code weight} and {@code bias}.
     *
     * @param runningMean FP32 contiguous {@code [C]} running mean, or null (training only)
     * @param runningVar  FP32 contiguous {@code [C]} running variance, or null with runningMean
     * @param weight      scale {@code [C]} or null for 1
     * @param bias        shift {@code [C]} or null for 0
     * @param training    whether to use (and track) the batch's statistics
     * @param momentum    running-statistics momentum in {@code [0, 1]}
     * @param eps         added to the variance, finite and {@code > 0}
     */
    public Tensor batchNorm(Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias, boolean training,
                            double momentum, double eps) {
        return BatchNormOp.batchNorm(this, runningMean, runningVar, weight, bias, training, momentum, eps);
    }

    // ---------------------------------------------------------------- convolution and pooling

    /**
     * 2-D convolution (cross-correlation, as in PyTorch) of this NCHW input with {@code weight}
     * of shape {@code [outChannels, inChannels / groups, kh, kw]} plus an optional {@code bias}
     * ({@code [outChannels]} or null). All operands share one dtype; the lowering to GEMM keeps
     * 16-bit inputs, accumulates in FP32, adds the bias in FP32 and rounds each output once.
     */
    public Tensor conv2d(Tensor weight, Tensor bias, Conv2dSpec spec) {
        return Convolution.conv2d(this, weight, bias, spec);
    }

    /**
     * 2-D transposed convolution (the gradient of {@link #conv2d} with respect to its input) of
     * this NCHW input with {@code weight} of shape {@code [inChannels, outChannels / groups, kh,
     * kw]} and optional {@code bias} ({@code [outChannels]}). Output size per spatial dim:
     * {@code (in - 1) stride - 2 pad + dilation (k - 1) + outputPadding + 1}. Precision as
     * {@link #conv2d}.
     */
    public Tensor convTranspose2d(Tensor weight, Tensor bias, Conv2dSpec spec, int outputPadding) {
        return Convolution.convTranspose2d(this, weight, bias, spec, outputPadding);
    }

    /**
     * Max pooling of this NCHW tensor over square windows (padding never wins); this dtype. Same as
     * {@code maxPool2d(Pool2dSpec.of(kernel, stride, padding))}.
     */
    public Tensor maxPool2d(int kernel, int stride, int padding) {
        return Pooling.maxPool2d(this, Pool2dSpec.of(kernel, stride, padding));
    }

    /**
     * Max pooling of this NCHW tensor with any {@link Pool2dSpec} geometry (PyTorch's
     * {@code max_pool2d}, {@code countIncludePad} ignored). Padding never wins; a NaN in a window
     * gives NaN; the gradient goes to the window's first maximum. Exact, in this dtype.
     */
    public Tensor maxPool2d(Pool2dSpec spec) {
        return Pooling.maxPool2d(this, spec);
    }

    /**
     * Average pooling of this NCHW tensor over square windows, padding counted as zeros in the
     * divisor {@code kernel^2}; summed in FP32 and rounded once to this dtype. Same as
     * {@code avgPool2d(Pool2dSpec.of(kernel, stride, padding))}.
     */
    public Tensor avgPool2d(int kernel, int stride, int padding) {
        return Pooling.avgPool2d(this, Pool2dSpec.of(kernel, stride, padding));
    }

    /**
     * Average pooling of this NCHW tensor with a {@link Pool2dSpec} geometry (PyTorch's
     * {@code avg_pool2d}; dilation must be 1): each window's sum, in FP32, times the FP32
     * reciprocal of its divisor ({@link Pool2dSpec#countIncludePad}), rounded once to this dtype.
     */
    public Tensor avgPool2d(Pool2dSpec spec) {
        return Pooling.avgPool2d(this, spec);
    }

    // ---------------------------------------------------------------- autograd

    /**
     * Marks this leaf as needing a gradient (or not); returns this.
     *
     * @throws IllegalStateException if this tensor was produced by a recorded op
     */
    public Tensor requiresGrad(boolean requires) {
        if (node != null) {
            throw new IllegalStateException("requiresGrad: only leaves can be marked; this tensor comes from '"
                    + node.op + "' (use detach() for a new leaf)");
        }
        this.requiresGrad = requires;
        return this;
    }

    /** Whether gradients flow to or through this tensor. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Whether this tensor is a leaf (not produced by a recorded op). */
    public boolean isLeaf() {
        return node == null;
    }

    /** The accumulated gradient of this leaf, in this tensor's dtype, or null if none yet. */
    public Tensor grad() {
        return grad;
    }

    /** Sets this leaf's gradient (null clears it); the gradient must match shape and dtype. */
    public void setGrad(Tensor g) {
        if (g != null && (!Arrays.equals(g.shape, shape) || g.dtype != dtype)) {
            throw new IllegalArgumentException("setGrad: gradient " + g.dtype + Arrays.toString(g.shape)
                    + " does not match tensor " + dtype + Arrays.toString(shape));
        }
        this.grad = g;
    }

    /** Clears the gradient (sets it to null). */
    public void zeroGrad() {
        this.grad = null;
    }

    /** Backpropagates from this scalar (one-element) tensor with seed 1, releasing the graph. */
    public void backward() {
        if (numel != 1) {
            throw new IllegalStateException("backward: needs a one-element tensor (shape " + Arrays.toString(shape)
                    + "); pass a seed gradient with backward(Tensor) for other shapes");
        }
        Autograd.backward(this, Tensor.full(DType.FP32, 1f, shape), false);
    }

    /** Backpropagates with {@code seed} as the gradient of this tensor, releasing the graph. */
    public void backward(Tensor seed) {
        backward(seed, false);
    }

    /**
     * Backpropagates with {@code seed} (same shape, any dtype) as the gradient of this tensor;
     * keeps the graph for another backward when {@code retainGraph}.
     */
    public void backward(Tensor seed, boolean retainGraph) {
        Objects.requireNonNull(seed, "backward: seed");
        Autograd.backward(this, seed, retainGraph);
    }

    // ---------------------------------------------------------------- printing

    /**
     * Shape, dtype and values, e.g. {@code Tensor[2, 3] FP16 [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]};
     * tensors with more than 1000 elements show the first and last 3 entries of each dimension.
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor").append(Arrays.toString(shape)).append(' ').append(dtype);
        if (requiresGrad) {
            sb.append(node == null ? " requiresGrad" : " grad_fn=" + node.op);
        }
        sb.append(' ');
        appendValues(sb, 0, offset, numel > PRINT_LIMIT);
        return sb.toString();
    }

    private void appendValues(StringBuilder sb, int d, int p, boolean truncate) {
        if (d == shape.length) {
            sb.append(elementAt(p));
            return;
        }
        sb.append('[');
        int n = shape[d];
        boolean cut = truncate && n > 2 * PRINT_EDGE;
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            if (cut && i == PRINT_EDGE) {
                sb.append("..., ");
                i = n - PRINT_EDGE;
            }
            appendValues(sb, d + 1, p + i * strides[d], truncate);
        }
        sb.append(']');
    }
}
