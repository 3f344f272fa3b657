from .Module import Module


class Log(Module):

    def updateOutput(self, input):
        self.output = input.log()
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput.div(input)
        return self.gradInput
