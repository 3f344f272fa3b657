"""Stochastic functions (0.2's REINFORCE support): multinomial, bernoulli and normal sampled from
Variables. Their outputs are samples without gradient; ``output.reinforce(reward)`` gives the reward,
and the backward pass turns it into the score-function gradient of the distribution's parameters:
minimizing -reward * log p(sample)."""
from ember.tensor import _TensorBase, _typename_of
from ..function import StochasticFunction
from .utils import Variable, both, function


class Multinomial(StochasticFunction):
    def __init__(self, num_samples, with_replacement):
        super(Multinomial, self).__init__()
        self.num_samples = num_samples
        self.with_replacement = with_replacement

    def forward(self, probs):
        samples = probs.multinomial(self.num_samples, self.with_replacement)
        self.save_for_backward(probs, samples)
        self.mark_non_differentiable(samples)
        return samples

    def backward(self, reward):
        probs, samples = self.saved_tensors
        if probs.dim() == 1:
            probs = probs.unsqueeze(0)
            samples = samples.unsqueeze(0)
            reward = reward.unsqueeze(0) if isinstance(reward, _TensorBase) else reward
        # multinomial takes weights: normalize them to probabilities
        probs = probs / probs.sum(1, True).expand_as(probs)
        chosen = probs.gather(1, samples)
        grad_chosen = -((chosen + 1e-6).reciprocal() * reward)
        grad = probs.new(probs.size()).zero_()
        grad.scatter_add_(1, samples, grad_chosen)
        return grad.view(self.saved_tensors[0].size())


class Bernoulli(StochasticFunction):
    def forward(self, probs):
        samples = probs.new(probs.size()).bernoulli_(probs)
        self.save_for_backward(probs, samples)
        self.mark_non_differentiable(samples)
        return samples

    def backward(self, reward):
        probs, samples = self.saved_tensors
        return (probs - samples) / (probs * (1 - probs) + 1e-6) * reward


class Normal(StochasticFunction):
    def __init__(self, stddev=None):
        super(Normal, self).__init__()
        self.stddev = stddev

    def forward(self, means, stddevs=None):
        output = means.new(means.size()).normal_()
        if self.stddev is not None:
            output.mul_(self.stddev)
        elif stddevs is not None:
            output.mul_(stddevs)
        output.add_(means)
        self.save_for_backward(output, means, stddevs)
        self.mark_non_differentiable(output)
        return output

    def backward(self, reward):
        output, means, stddevs = self.saved_tensors
        grad_stddevs = None
        grad_means = means - output  # -(output - means)
        if self.stddev is not None:
            grad_means = grad_means / (1e-6 + self.stddev ** 2)
        else:
            stddevs_sq = stddevs * stddevs
            stddevs_cb = stddevs_sq * stddevs + 1e-6
            stddevs_sq = stddevs_sq + 1e-6
            grad_stddevs = (stddevs_sq - grad_means * grad_means) / stddevs_cb * reward
            grad_means = grad_means / stddevs_sq
        grad_means = grad_means * reward
        return grad_means, grad_stddevs


@both
def multinomial(self, num_samples=1, replacement=False):
    return Multinomial(num_samples, replacement)(self)


@both
def bernoulli(self):
    return Bernoulli()(self)


@function
def normal(means, std=1):
    """ember.normal with Variables: samples from N(means, std^2) (std a number or a Variable)."""
    if not isinstance(means, Variable):
        raise TypeError("normal(): with Variables, means must be a Variable, got {}".format(_typename_of(means)))
    if isinstance(std, Variable):
        return Normal()(means, std)
    return Normal(std)(means)

