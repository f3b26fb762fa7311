export * from './dto';
export * from './requests';
export * from './views';
export * from './training';
