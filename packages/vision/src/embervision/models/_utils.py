"""Loading the pretrained weights of 0.1.9's model zoo through ember.utils.model_zoo."""
import os
from urllib.parse import urlparse

from ember.utils import model_zoo


def load_pretrained(model, url, name):
    """Load the state_dict at ``url`` into ``model`` (the constructor ``name`` asked for it).

    ``load_url`` caches the file in the model directory; when it cannot fetch it (no network, a
    truncated download, a wrong hash) the error says which file to put where so that it works offline."""
    try:
        state_dict = model_zoo.load_url(url)
    except RuntimeError as e:
        cached = os.path.join(os.path.expanduser(model_zoo._default_model_dir()),
                              os.path.basename(urlparse(url).path))
        raise RuntimeError(
            "{}(pretrained=True): could not get the pretrained weights from {} ({}). To work offline, "
            "download that file elsewhere and put it at {} (or point $EMBER_MODEL_ZOO or $TORCH_MODEL_ZOO "
            "at the folder that holds it)".format(name, url, e, cached)) from e
    model.load_state_dict(state_dict)
    return model
