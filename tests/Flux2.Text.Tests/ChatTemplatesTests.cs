namespace Flux2.Text.Tests;

public class ChatTemplatesTests
{
    [Fact]
    public void KleinWrapsOneUserTurnWithThinkingDisabled()
    {
        Assert.Equal("<|im_start|>user\nred [IMG] fox<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
            ChatTemplates.Render(PromptTemplate.Klein, "red [IMG] fox"));
    }

    [Fact]
    public void DevHasBosOnceTheSystemPromptWithItsLineFeedAndNoImagePlaceholders()
    {
        Assert.Equal(
            "<s>[SYSTEM_PROMPT]You are an AI that reasons about image descriptions. You give structured responses focusing on object relationships, object\n" +
            "attribution and actions without speculation.[/SYSTEM_PROMPT][INST]red  fox[/INST]",
            ChatTemplates.Render(PromptTemplate.Dev, "red [IMG] fox[IMG]"));
    }

    [Fact]
    public void EmptyPromptsRender()
    {
        Assert.EndsWith("[INST][/INST]", ChatTemplates.Render(PromptTemplate.Dev, ""));
        Assert.Equal("", ChatTemplates.Render(PromptTemplate.None, ""));
    }
}
