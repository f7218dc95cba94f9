/// The prompts of Milvus's "Build RAG with Milvus" tutorial.
public enum RAGPrompt {
    /// The tutorial's system prompt, word for word.
    public static let system =
        "Human: You are an AI assistant. You are able to find answers to the questions from the contextual passage snippets provided."

    /// The tutorial's user prompt with `context` in `<context>` tags and `question` in `<question>` tags.
    public static func user(context: String, question: String) -> String {
        """
        Use the following pieces of information enclosed in <context> tags to provide an answer to the question enclosed in <question> tags.
        <context>
        \(context)
        </context>
        <question>
        \(question)
        </question>
        """
    }

    /// The messages for answering `question` from `sources`, whose texts are joined by `"\n"`
    /// as in the tutorial.
    public static func messages(question: String, sources: [RetrievedChunk]) -> [ChatMessage] {
        [.system(system), .user(user(context: sources.map(\.text).joined(separator: "\n"), question: question))]
    }

    /// The messages for answering without retrieval (the tutorial's comparison): the question alone.
    public static func messagesWithoutContext(question: String) -> [ChatMessage] {
        [.user(question)]
    }
}
