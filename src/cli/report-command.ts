export const reportCommand = async () => 0;
