"""Printing in 0.2's format. (Being written; minimal form until then.)"""


def _str(t):
    if not t._a.size:
        return "[{} with no dimension]\n".format(t._typename)
    return "\n{}\n[{} of size {}]\n".format(t._a, t._typename, "x".join(str(s) for s in t._a.shape))


def _str_storage(s):
    return "\n".join(" " + str(v) for v in s.tolist()) + "\n[{} of size {}]".format(s._typename, s.size())
