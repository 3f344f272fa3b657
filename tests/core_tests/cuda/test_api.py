"""ember.cuda's API: CUDA types, host/device conversions, devices, streams, events, pinned memory, seeding,
comm, serialization and DataLoader(pin_memory=True).

Tests taking ``device_mode`` run on fake CUDA (every machine) and on a real GPU (marked ``gpu``); tests
taking ``fake_cuda`` need two devices, which only the fake has everywhere. What only a real GPU shows
(asynchronous copies overlapping, stream ordering, timings) is in tools/gpu_smoke.py's benchmarks."""
import io
import pickle

import numpy as np
import pytest

import ember
import ember.cuda
from ember import _backend
from ember.autograd import Variable
from ember.utils.data import DataLoader, TensorDataset


# ---------------------------------------------------------------- types and conversions

def test_cuda_types_and_conversions(device_mode):
    x = ember.FloatTensor([[1.5, -2], [3, 4]])
    g = x.cuda()
    assert type(g) is ember.cuda.FloatTensor and g.is_cuda and g.type() == "torch.cuda.FloatTensor"
    assert g.get_device() == ember.cuda.current_device() == 0
    assert g.cuda() is g and g.cuda(0) is g  # same device: self, as 0.2
    assert g.size() == x.size() and g.stride() == (2, 1) and g.is_contiguous()
    c = g.cpu()
    assert type(c) is ember.FloatTensor and c.tolist() == x.tolist()
    assert x.cpu() is x
    assert g.double().type() == "torch.cuda.DoubleTensor" and g.long().tolist() == [[1, -2], [3, 4]]
    assert g.byte().type() == "torch.cuda.ByteTensor" and g.half().type() == "torch.cuda.HalfTensor"
    assert x.type("torch.cuda.IntTensor").tolist() == [[1, -2], [3, 4]]
    assert g.type("torch.LongTensor").type() == "torch.LongTensor"
    assert g.type("ember.cuda.FloatTensor") is g and g.type_as(x.double()).type() == "torch.DoubleTensor"
    assert x.cuda(**{"async": True}).tolist() == x.tolist() and x.cuda(non_blocking=True).tolist() == x.tolist()
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        x.cuda(bogus=1)
    with pytest.raises(TypeError, match="can't convert CUDA tensor to numpy"):
        g.numpy()
    with pytest.raises(TypeError, match="only CPU memory can be pinned"):
        g.pin_memory()


def test_cuda_constructors_and_storages(device_mode):
    t = ember.cuda.LongTensor(2, 3).fill_(7)
    assert t.is_cuda and t.tolist() == [[7] * 3] * 2
    assert ember.cuda.FloatTensor([1, 2]).tolist() == [1.0, 2.0]
    assert ember.cuda.DoubleTensor(ember.Size([2])).size() == ember.Size([2])
    assert ember.cuda.ByteTensor().dim() == 0 and ember.cuda.ByteTensor().numel() == 0
    s = t.storage()
    assert type(s) is ember.cuda.LongStorage and s.is_cuda and s.size() == 6 and s.get_device() == 0
    assert s.tolist() == [7] * 6 and s[2] == 7 and s.data_ptr() == t.data_ptr()
    s[1] = 3
    assert t[0][1] == 3  # the tensor views the storage
    cs = ember.cuda.FloatStorage([1, 2, 3])
    assert cs.cpu().tolist() == [1.0, 2.0, 3.0] and type(cs.cpu()) is ember.FloatStorage
    assert type(ember.FloatStorage([4, 5]).cuda()) is ember.cuda.FloatStorage
    assert cs.double().type() == "torch.cuda.DoubleStorage" and cs.type("torch.IntStorage").tolist() == [1, 2, 3]
    host = ember.DoubleStorage(3)
    host.copy_(cs)
    assert host.tolist() == [1.0, 2.0, 3.0]
    cs.copy_(ember.FloatStorage([9, 8, 7]))
    assert cs.tolist() == [9.0, 8.0, 7.0]
    assert ember.cuda.IntStorage(4).resize_(6).size() == 6
    assert pickle.loads(pickle.dumps(cs)).tolist() == [9.0, 8.0, 7.0]
    u = ember.cuda.FloatTensor().set_(cs, 1, (2,), (1,))
    assert u.tolist() == [8.0, 7.0] and u.storage_offset() == 1


def test_copy_between_host_and_device(device_mode):
    x = ember.DoubleTensor([[1, 2, 3], [4, 5, 6]])
    g = ember.cuda.FloatTensor(2, 3).copy_(x)
    assert g.tolist() == x.tolist()
    g.copy_(ember.LongTensor([7, 8, 9]))  # broadcast and cast from the host
    assert g.tolist() == [[7, 8, 9]] * 2
    h = ember.IntTensor(3, 2).copy_(g.t())  # non-contiguous device source
    assert h.tolist() == [[7, 7], [8, 8], [9, 9]]
    x.t().copy_(ember.cuda.DoubleTensor([[1, 2], [3, 4], [5, 6]]))  # into a non-contiguous host tensor
    assert x.tolist() == [[1, 3, 5], [2, 4, 6]]
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        g.copy_(ember.FloatTensor(5))


def test_printing_and_host_values(device_mode):
    g = ember.cuda.FloatTensor([[1, 2], [3, 4]])
    assert "[torch.cuda.FloatTensor of size 2x2 (GPU 0)]" in repr(g)
    assert "torch.cuda.FloatStorage of size 4" in repr(g.storage())
    assert g.sum() == 10.0 and isinstance(g.sum(), float) and g[1][0] == 3.0 and float(g[0][1]) == 2.0
    assert [int(v) for v in g.long().view(-1)] == [1, 2, 3, 4] and g.max() == 4.0


def test_variables_on_the_gpu(device_mode):
    x = Variable(ember.randn(3, 4).cuda(), requires_grad=True)
    w = Variable(ember.randn(4, 2).cuda(), requires_grad=True)
    y = (x.mm(w).tanh() * 2).sum()
    y.backward()
    assert x.grad.data.is_cuda and w.grad.data.is_cuda and x.grad.size() == x.size()
    expected = (1 - x.data.cpu().mm(w.data.cpu()).tanh().pow(2)) * 2
    np.testing.assert_allclose(w.grad.data.cpu().numpy(), x.data.cpu().t().mm(expected).numpy(), rtol=1e-5,
                               atol=1e-6)
    assert x.cuda() is x and x.cpu().data.type() == "torch.FloatTensor"


# ---------------------------------------------------------------- devices

def test_devices_and_placement(fake_cuda):
    assert ember.cuda.is_available() and ember.cuda.device_count() == 2 and ember.cuda.current_device() == 0
    x = ember.FloatTensor([1, 2, 3])
    g1 = x.cuda(1)
    assert g1.get_device() == 1 and ember.cuda.current_device() == 0
    with ember.cuda.device(1):
        assert ember.cuda.current_device() == 1
        assert ember.cuda.FloatTensor(2).get_device() == 1 and x.cuda().get_device() == 1
        with ember.cuda.device(-1):  # a negative index does nothing
            assert ember.cuda.current_device() == 1
    assert ember.cuda.current_device() == 0
    with ember.cuda.device_of(g1):
        assert ember.cuda.current_device() == 1
    with ember.cuda.device_of(x):  # CPU objects: no-op
        assert ember.cuda.current_device() == 0
    ember.cuda.set_device(1)
    try:
        assert ember.cuda.current_device() == 1 and ember.cuda.FloatStorage(3).get_device() == 1
    finally:
        ember.cuda.set_device(0)
    with pytest.raises(RuntimeError, match="invalid device ordinal 5"):
        x.cuda(5)
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        with ember.cuda.device(2):
            pass
    assert isinstance(ember.cuda.current_blas_handle(), int)


def test_ops_run_on_the_device_of_their_tensors(fake_cuda):
    g1 = ember.FloatTensor([[1, 2], [3, 4]]).cuda(1)
    # current device 0: methods, operators, ember.* functions and cat still compute on GPU 1
    for r in (g1 + g1, g1.mm(g1), ember.add(g1, 1), ember.cat([g1, g1]), g1.sum(0), g1[g1 > 2], g1.t().clone(),
              g1.index_select(0, ember.LongTensor([1]).cuda(1)), g1.max(1)[1], g1.new(3), g1.double()):
        assert r.is_cuda and r.get_device() == 1
    assert (g1 * 2).cpu().tolist() == [[2, 4], [6, 8]]
    g0 = g1.cuda(0)
    assert g0.get_device() == 0 and g0.cpu().tolist() == g1.cpu().tolist()
    with pytest.raises(RuntimeError, match="arguments are located on different GPUs"):
        g0 + g1
    with pytest.raises(RuntimeError, match="arguments are located on different GPUs"):
        ember.cat([g0, g1])
    with pytest.raises(RuntimeError, match="arguments are located on different GPUs"):
        g0.index_select(0, ember.LongTensor([0]).cuda(1))
    g0.copy_(g1 * 3)  # copy_ moves between devices
    assert g0.get_device() == 0 and g0.cpu().tolist() == [[3, 6], [9, 12]]
    s1 = g1.storage()
    assert s1.get_device() == 1 and s1.cuda(0).get_device() == 0 and s1.cuda(1) is s1


def test_index_tensors_must_be_on_the_tensors_device(device_mode):
    g = ember.FloatTensor([1, 2, 3]).cuda()
    cpu_index = ember.LongTensor([2])
    with pytest.raises(TypeError, match=r"expected \(int dim, torch.cuda.LongTensor index\)"):
        g.index_select(0, cpu_index)
    with pytest.raises(TypeError, match="indexing a torch.cuda.FloatTensor with a torch.LongTensor: an index "
                                        "tensor must be where the tensor is"):
        g[cpu_index]
    with pytest.raises(TypeError, match="indexing a torch.FloatTensor with a torch.cuda.LongTensor"):
        ember.FloatTensor([1, 2, 3])[cpu_index.cuda()]
    assert g[cpu_index.cuda()].cpu().tolist() == [3] == g.index_select(0, cpu_index.cuda()).cpu().tolist()


def test_callables_only_work_with_cpu_tensors(device_mode):
    g = ember.FloatTensor([1, 2]).cuda()
    for call, op in ((lambda: g.apply_(abs), "apply_"), (lambda: g.map_(g, max), "map_"),
                     (lambda: g.map2_(g, g, max), "map2_")):
        with pytest.raises(TypeError, match=r"{}\(\): only works with CPU tensors, got a torch.cuda.FloatTensor"
                           .format(op)):
            call()
    assert g.cpu().apply_(lambda v: v * 3).tolist() == [3, 6]


def test_cuda_default_tensor_type(device_mode):
    """0.2's set_default_tensor_type('torch.cuda.FloatTensor'): Tensor, factories and random functions make
    CUDA tensors on the current GPU (new modules' parameters: tests/nn_tests/test_module.py)."""
    ember.set_default_tensor_type("torch.cuda.FloatTensor")
    try:
        made = [ember.Tensor(2, 3), ember.Tensor([1, 2]), ember.zeros(2), ember.ones(2), ember.eye(2),
                ember.arange(0, 3), ember.linspace(0, 1, 3), ember.rand(2), ember.randn(2)]
        assert all(t.type() == "torch.cuda.FloatTensor" for t in made), [t.type() for t in made]
        assert ember.Storage(3).type() == "torch.cuda.FloatStorage"
        assert ember.arange(0, 3).cpu().tolist() == [0, 1, 2] and ember.eye(2).cpu().tolist() == [[1, 0], [0, 1]]
        ember.cuda.manual_seed(3)
        a = ember.randn(4)
        ember.cuda.manual_seed(3)
        assert ember.randn(4).cpu().tolist() == a.cpu().tolist()  # the CUDA generator draws them
    finally:
        ember.set_default_tensor_type("torch.FloatTensor")
    assert ember.Tensor(1).type() == "torch.FloatTensor" and not ember.zeros(1).is_cuda


def test_comm(fake_cuda):
    from ember.cuda import comm
    x = ember.FloatTensor([[1, 2], [3, 4], [5, 6]]).cuda(0)
    b = comm.broadcast(x, [0, 1])
    assert b[0] is x and b[1].get_device() == 1 and b[1].cpu().tolist() == x.cpu().tolist()
    bc = comm.broadcast_coalesced([x, x.double()], [0, 1])
    assert [[t.get_device() for t in ts] for ts in bc] == [[0, 0], [1, 1]]
    r = comm.reduce_add([x, b[1]], destination=1)
    assert r.get_device() == 1 and r.cpu().tolist() == [[2, 4], [6, 8], [10, 12]]
    assert comm.reduce_add_coalesced([[x], [b[1]]])[0].get_device() == 0
    with pytest.raises(ValueError, match="input 1 has invalid size"):
        comm.reduce_add([x, x[:2]])
    parts = comm.scatter(x, [0, 1], chunk_sizes=[1, 2])
    assert [p.get_device() for p in parts] == [0, 1] and parts[1].cpu().tolist() == [[3, 4], [5, 6]]
    assert [p.size(1) for p in comm.scatter(x, [0, 1], dim=1)] == [1, 1]
    with pytest.raises(ValueError, match="don't sum up"):
        comm.scatter(x, [0, 1], chunk_sizes=[1, 1])
    g = comm.gather(parts, destination=0)
    assert g.get_device() == 0 and g.cpu().tolist() == x.cpu().tolist()
    h = comm.gather(parts, destination=-1)
    assert type(h) is ember.FloatTensor and h.tolist() == x.cpu().tolist()
    assert comm.gather([x, x], dim=1).size() == ember.Size([3, 4])
    with pytest.raises(ValueError, match="gather got an input of invalid size"):
        comm.gather([x, x.t()])
    with pytest.raises(TypeError, match="expects all inputs to be CUDA tensors"):
        comm.gather([x.cpu()])


# ---------------------------------------------------------------- streams, events, seeds

def test_nccl_collectives(fake_cuda):
    nccl = ember.cuda.nccl
    a = ember.FloatTensor([1, 2, 3, 4])
    b = ember.FloatTensor([10, 20, 30, 40])

    def pair():
        return [a.cuda(0), b.cuda(1)]
    assert nccl.is_available(pair())
    assert not nccl.is_available([a.cuda(0), b.cuda(0)]) and not nccl.is_available([a, b.cuda(1)])
    assert not nccl.is_available([ember.FloatTensor(2, 2).cuda(0).t(), b.cuda(1)])
    xs = pair()
    nccl.all_reduce(xs)
    assert [x.get_device() for x in xs] == [0, 1] and all(x.cpu().tolist() == [11, 22, 33, 44] for x in xs)
    xs = pair()
    nccl.all_reduce(xs, op=nccl.MAX)
    assert xs[0].cpu().tolist() == [10, 20, 30, 40]
    xs, outs = pair(), pair()
    nccl.reduce(xs, outs, root=1, op=nccl.PROD)
    assert outs[1].cpu().tolist() == [10, 40, 90, 160] and outs[0].cpu().tolist() == [1, 2, 3, 4]
    xs = pair()
    with ember.cuda.device(1):
        streams = [None, ember.cuda.Stream()]
    nccl.reduce(xs, root=1, streams=streams)
    streams[1].synchronize()
    assert xs[1].cpu().tolist() == [11, 22, 33, 44]
    with pytest.raises(ValueError, match="one stream per input"):
        nccl.reduce(pair(), streams=[None])
    xs = pair()
    nccl.broadcast(xs, root=1)
    assert xs[0].get_device() == 0 and xs[0].cpu().tolist() == [10, 20, 30, 40]
    outs = [ember.FloatTensor(8).cuda(0), ember.FloatTensor(2, 4).cuda(1)]
    nccl.all_gather(pair(), outs)
    assert outs[0].cpu().tolist() == [1, 2, 3, 4, 10, 20, 30, 40] == outs[1].cpu().view(-1).tolist()
    outs = [ember.FloatTensor(2).cuda(0), ember.FloatTensor(2).cuda(1)]
    nccl.reduce_scatter(pair(), outs, op=nccl.MIN)
    assert outs[0].cpu().tolist() == [1, 2] and outs[1].cpu().tolist() == [3, 4]
    with pytest.raises(TypeError, match="contiguous CUDA tensors of one type, each on its own GPU"):
        nccl.all_reduce([a.cuda(0), b.cuda(0)])
    with pytest.raises(ValueError, match="op must be SUM, PROD, MAX or MIN"):
        nccl.all_reduce(pair(), op=7)


def test_nvtx_markers_run(device_mode):
    nvtx = ember.cuda.nvtx
    nvtx.range_push("outer")
    nvtx.mark("event")
    nvtx.range_pop()


def test_streams_and_events(device_mode):
    s = ember.cuda.Stream()
    assert s.device == 0 and isinstance(s.cuda_stream, int) and s.cuda_stream != 0
    assert repr(s) == "<torch.cuda.Stream device=0 cuda_stream={:#x}>".format(s.cuda_stream)
    default = ember.cuda.current_stream()
    assert default.cuda_stream == 0 and default == ember.cuda.current_stream()
    with ember.cuda.stream(s):
        assert ember.cuda.current_stream() == s
        y = ember.cuda.FloatTensor(100).fill_(1) * 2
        e = s.record_event()
    with ember.cuda.stream(None):
        assert ember.cuda.current_stream() == default
    assert ember.cuda.current_stream() == default
    default.wait_event(e)
    default.wait_stream(s)
    s.synchronize()
    assert s.query() is True and e.query() is True and y.sum() == 200.0
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    assert repr(start) == "<torch.cuda.Event uninitialized>"
    start.record()
    (ember.cuda.FloatTensor(1000).fill_(1) + 1).sum()
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0 and repr(start).startswith("<torch.cuda.Event 0x")
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        ember.cuda.Event().elapsed_time(end)
    with pytest.raises(RuntimeError, match="interprocess=True"):
        start.ipc_handle()
    e2 = ember.cuda.Event(interprocess=True)
    e2.record()
    e2.wait()
    assert isinstance(e2.ipc_handle(), bytes)
    assert ember.cuda.Event.DISABLE_TIMING == 2 and ember.cuda.Event.INTERPROCESS == 4
    ember.cuda.synchronize()


def test_record_stream_keeps_memory_until_the_stream_is_done(device_mode, monkeypatch):
    side = ember.cuda.Stream()
    t = ember.cuda.FloatTensor(100000).fill_(3)
    with ember.cuda.stream(side):
        total = t * 2
    pending = [device_mode == "fake"]  # the fake's events finish at once: hold this one pending
    if device_mode == "fake":
        monkeypatch.setattr(type(ember.cuda._cp().cuda.Event()), "done", property(lambda e: not pending[0]))
    t.record_stream(side)
    if device_mode == "fake":
        import weakref
        array = weakref.ref(t._a)

        def held():
            return array() is not None
    else:  # CuPy arrays take no weak references: watch the pool instead
        pool = ember.cuda._cp().get_default_memory_pool()
        used = pool.used_bytes()

        def held():
            return pool.used_bytes() == used
    del t
    assert held()  # the side stream's work may still read it
    pending[0] = False
    side.synchronize()
    ember.cuda.synchronize()  # every stream has passed its event: the allocation goes back
    assert not held() and total.sum() == 600000
    with pytest.raises(TypeError, match="expected a torch.cuda.Stream, got int"):
        ember.cuda.FloatTensor(2).record_stream(0)
    assert not hasattr(ember.FloatTensor(2), "record_stream")  # CUDA tensors only, as 0.2


def test_manual_seed_reproduces_device_samples(device_mode):
    ember.cuda.manual_seed(123)
    a = ember.cuda.FloatTensor(50).uniform_()
    b = ember.cuda.DoubleTensor(20).normal_(2, 3)
    ember.cuda.manual_seed_all(123)
    assert ember.cuda.FloatTensor(50).uniform_().tolist() == a.tolist()
    assert ember.cuda.DoubleTensor(20).normal_(2, 3).tolist() == b.tolist()
    assert ember.cuda.initial_seed() == 123
    v = a.cpu().numpy()
    assert ((v >= 0) & (v < 1)).all() and len(set(v.tolist())) > 40
    with pytest.raises(NotImplementedError, match="generator= applies to CPU tensors"):
        ember.cuda.FloatTensor(3).uniform_(generator=ember.default_generator)
    state = ember.cuda.get_rng_state()
    c = ember.cuda.FloatTensor(30).normal_()
    ember.cuda.FloatTensor(7).uniform_()
    ember.cuda.set_rng_state(state)
    assert ember.cuda.FloatTensor(30).normal_().tolist() == c.tolist()
    with pytest.raises(RuntimeError, match="a torch.ByteTensor of 16 bytes"):
        ember.cuda.set_rng_state(ember.ByteTensor(4))
    with pytest.raises(RuntimeError, match="invalid device ordinal 9"):
        ember.cuda.get_rng_state(9)


# ---------------------------------------------------------------- pinned memory and the DataLoader

def test_pinned_memory(device_mode):
    x = ember.FloatTensor([[1, 2, 3], [4, 5, 6]])
    assert not x.is_pinned()
    p = x.pin_memory()
    assert p.is_pinned() and not p.is_cuda and p.tolist() == x.tolist() and p.data_ptr() != x.data_ptr()
    assert p.pin_memory().data_ptr() == p.data_ptr()  # pinning pinned memory keeps it
    v = x.t().pin_memory()
    assert v.is_pinned() and v.tolist() == x.t().tolist() and v.stride() == (1, 3)
    assert p[1].is_pinned()  # views of pinned memory are pinned
    g = p.cuda(**{"async": True})
    ember.cuda.current_stream().synchronize()
    assert g.is_cuda and g.tolist() == x.tolist()
    s = ember.DoubleStorage([1, 2]).pin_memory()
    assert s.is_pinned() and s.cuda(non_blocking=True).tolist() == [1.0, 2.0]
    assert ember.cuda.FloatTensor(2).copy_(p[0, :2], **{"async": True}).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_pin_memory(device_mode, workers):
    data = ember.arange(0, 24).view(12, 2)
    loader = DataLoader(TensorDataset(data, ember.arange(0, 12).long()), batch_size=4, num_workers=workers,
                        pin_memory=True)
    seen = []
    for xb, yb in loader:
        assert xb.is_pinned() and yb.is_pinned()
        seen.append(xb.cuda(**{"async": True}).cpu())
    assert ember.cat(seen).tolist() == data.tolist()


# ---------------------------------------------------------------- serialization

def test_save_and_load_cuda_tensors(fake_cuda, tmp_path):
    x = ember.FloatTensor([[1, 2], [3, 4]]).cuda(1)
    obj = {"x": x, "row": x[1], "cpu": ember.LongTensor([5])}
    path = str(tmp_path / "t.pt")
    ember.save(obj, path)
    back = ember.load(path)
    assert back["x"].get_device() == 1 and back["x"].tolist() == x.tolist()
    assert back["row"].storage().data_ptr() == back["x"].storage().data_ptr()  # still shared
    back["row"].fill_(0)
    assert back["x"].tolist() == [[1, 2], [0, 0]]
    cpu = ember.load(path, map_location="cpu")
    assert type(cpu["x"]) is ember.FloatTensor and cpu["x"].tolist() == x.tolist()
    moved = ember.load(path, map_location={"cuda:1": "cuda:0"})
    assert moved["x"].get_device() == 0 and moved["cpu"].is_cuda is False
    seen = []
    ember.load(path, map_location=lambda storage, loc: seen.append(loc))
    assert "cuda:1" in seen
    buf = io.BytesIO()
    ember.save(ember.cuda.DoubleTensor([1.5]), buf)
    buf.seek(0)
    assert ember.load(buf, map_location=lambda s, loc: s).tolist() == [1.5]


# ---------------------------------------------------------------- the stand-in itself

def test_fake_cupy_keeps_cupy_restrictions(fake_cuda):
    """The stand-in fails where CuPy would, so code that passes on it does not trip on a GPU for these."""
    cp = _backend.cupy
    a = cp.arange(6, dtype=np.float32).reshape(2, 3)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(a)
    with pytest.raises(TypeError, match="Wrong arguments"):
        np.add(a, a, order="C")
    for call in (lambda: np.count_nonzero(a, axis=1, keepdims=True), lambda: cp.count_nonzero(a, keepdims=True)):
        with pytest.raises(TypeError, match="unexpected keyword argument 'keepdims'"):  # CuPy 14 has no keepdims
            call()
    assert np.count_nonzero(a, axis=1).tolist() == [2, 3]
    with pytest.raises(TypeError):
        np.add.reduce(a)
    with pytest.raises(TypeError, match="Unsupported type"):
        a + np.ones(3, np.float32)
    with pytest.raises(TypeError):
        memoryview(a)
    assert type(a.sum()) is cp.ndarray and a.sum().ndim == 0 and type(a[0, 1]) is cp.ndarray
    assert not hasattr(a.flags, "contiguous") and a.flags.c_contiguous
    with cp.cuda.Device(1):
        b = cp.ones(3)
        with pytest.raises(ValueError, match="Array device must be same as the current device"):
            a + 1
    assert b.data.device_id == 1 and b.copy().data.device_id == 0  # copy() goes to the current device
    with pytest.raises(AttributeError):
        cp.insert
    with pytest.raises(AttributeError):
        a.__array_interface__
    # out-of-range integer indices wrap around instead of raising
    i = cp.asarray(np.array([1, 7]))
    assert a[0][i].tolist() == [1, 1] and cp.take(a[1], i).tolist() == [4, 4] and a[1].take(i).tolist() == [4, 4]
    assert a[cp.asarray(np.array([3])), 0].tolist() == [3] and a[0][[4]].tolist() == [1]
    a[0][cp.asarray(np.array([5]))] = -1
    assert a[0].tolist() == [0, 1, -1]


# CuPy wraps out-of-range indices around: ember checks them itself, with 0.2's errors, on every device
_OUT_OF_RANGE = {
    "getitem": lambda t, i: t[i],
    "setitem": lambda t, i: t.__setitem__(i, 1.0),
    "index_select": lambda t, i: t.index_select(0, i),
    "index_add_": lambda t, i: t.index_add_(0, i, t.new(1, 3).fill_(1)),
    "index_copy_": lambda t, i: t.index_copy_(0, i, t.new(1, 3).fill_(1)),
    "index_fill_": lambda t, i: t.index_fill_(0, i, 1.0),
    "gather": lambda t, i: t.gather(0, i.view(1, 1).expand(1, 3).contiguous()),
    "scatter_": lambda t, i: t.scatter_(0, i.view(1, 1).expand(1, 3).contiguous(), 1.0),
    "scatter_add_": lambda t, i: t.scatter_add_(0, i.view(1, 1).expand(1, 3).contiguous(), t.new(1, 3).fill_(1)),
    "take": lambda t, i: t.take(i + 20),
    "put_": lambda t, i: t.put_(i + 20, t.new(1).fill_(1)),
}


@pytest.mark.parametrize("op", sorted(_OUT_OF_RANGE))
def test_out_of_range_indices_raise_on_cuda(device_mode, op):
    t = ember.FloatTensor(4, 3).zero_().cuda()
    with pytest.raises((IndexError, RuntimeError), match="out of range"):
        _OUT_OF_RANGE[op](t, ember.LongTensor([5]).cuda())
    assert t.cpu().abs().sum() == 0  # and nothing was written


def test_without_cuda_the_types_still_exist():
    previous = _backend.use_fake_cuda(False)
    try:
        if _backend.cuda_available:
            pytest.skip("a real GPU is present")
        assert ember.cuda.is_available() is False and ember.cuda.device_count() == 0
        assert ember.cuda.FloatTensor._typename == "torch.cuda.FloatTensor"
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            ember.cuda.FloatTensor(2)
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            ember.FloatTensor(2).pin_memory()
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            ember.cuda.Stream()
        ember.cuda.manual_seed(1)  # a no-op without CUDA, as 0.2
    finally:
        _backend.use_fake_cuda(previous)


def test_fake_cuda_from_the_environment():
    """EMBER_FAKE_CUDA=1 turns the stand-in on at import, for whole programs (examples, benchmarks)."""
    import os
    import subprocess
    import sys
    code = ("import ember, ember.cuda as c; x = ember.FloatTensor([1, 2]).cuda(1); "
            "print(c.is_available(), c.device_count(), (x * 2).cpu().tolist(), x.get_device())")
    env = dict(os.environ, EMBER_FAKE_CUDA="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "True 2 [2.0, 4.0] 1"


def test_cudart_is_the_cuda_runtime_library(device_mode):
    import ctypes
    try:
        lib = ember.cuda.cudart()
    except RuntimeError as e:
        pytest.skip(str(e))  # a machine with neither CuPy's runtime nor the toolkit
    assert ember.cuda.cudart() is lib
    assert lib.cudaGetErrorString(0) == b"no error"
    v = ctypes.c_int()
    assert lib.cudaRuntimeGetVersion(ctypes.byref(v)) == 0 and v.value >= 11000
