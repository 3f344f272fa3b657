from .module import Module
from .container import Container, Sequential, ModuleList, ParameterList
