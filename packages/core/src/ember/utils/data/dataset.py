import bisect


class Dataset(object):
    """An abstract dataset: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are ``(data_tensor[i], target_tensor[i])`` (0.2's two-tensor form)."""

    def __init__(self, data_tensor, target_tensor):
        if data_tensor.size(0) != target_tensor.size(0):
            raise ValueError("TensorDataset: data_tensor and target_tensor must have the same size(0), got {} "
                             "and {}".format(data_tensor.size(0), target_tensor.size(0)))
        self.data_tensor = data_tensor
        self.target_tensor = target_tensor

    def __getitem__(self, index):
        return self.data_tensor[index], self.target_tensor[index]

    def __len__(self):
        return self.data_tensor.size(0)


class ConcatDataset(Dataset):
    """The concatenation of several datasets."""

    @staticmethod
    def cumsum(sequence):
        r, s = [], 0
        for e in sequence:
            s += len(e)
            r.append(s)
        return r

    def __init__(self, datasets):
        super(ConcatDataset, self).__init__()
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cummulative_sizes = self.cumsum(self.datasets)  # [sic], 0.2's name

    def __len__(self):
        return self.cummulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise IndexError("ConcatDataset: index {} out of range for length {}".format(idx, len(self)))
            idx += len(self)
        if idx >= len(self):
            raise IndexError("ConcatDataset: index {} out of range for length {}".format(idx, len(self)))
        d = bisect.bisect_right(self.cummulative_sizes, idx)
        sample_idx = idx if d == 0 else idx - self.cummulative_sizes[d - 1]
        return self.datasets[d][sample_idx]
